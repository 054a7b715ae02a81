"""Fixtures of the HTTP/1.1 conformance and slow-client checks.

`tools/conformance` builds the release binary and sets ENAT_BINARY; the server runs the
random-weight test model on a loopback port. ENAT_CONFORMANCE_TARGET=host:port runs the RFC 9112
cases against a server that is already running instead (the slow-client check always starts its
own, since it needs to know the server's limits).
"""
import json
import os
import subprocess
import threading

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY = os.environ.get("ENAT_BINARY", os.path.join(REPO, ".build", "release", "enat"))


class Server:
    """One `enat serve` process on 127.0.0.1; its port is read from the `listening` log line."""

    def __init__(self, *flags):
        if not os.path.exists(BINARY):
            pytest.fail(f"no binary at {BINARY}; run tools/conformance (it builds one) or set ENAT_BINARY")
        self.process = subprocess.Popen(
            [BINARY, "serve", "--model", "random:tiny", "--host", "127.0.0.1", "--port", "0",
             "--blas-threads", "1", *flags],
            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        self.logs = []
        self.port = None
        listening = threading.Event()

        def read_logs():
            for line in self.process.stderr:
                self.logs.append(line)
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if entry.get("msg") == "listening":
                    self.port = entry["port"]
                    listening.set()

        threading.Thread(target=read_logs, daemon=True).start()
        if not listening.wait(120):
            self.process.kill()
            pytest.fail(f"server did not start: {self.logs}")
        self.address = ("127.0.0.1", self.port)

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
        return self.process.wait(60)


@pytest.fixture(scope="session")
def address():
    """(host, port) of the server under test."""
    target = os.environ.get("ENAT_CONFORMANCE_TARGET")
    if target:
        host, _, port = target.rpartition(":")
        yield (host, int(port))
        return
    server = Server()
    yield server.address
    assert server.stop() == 0


@pytest.fixture
def start_server():
    """Starts servers with extra flags; stops them afterwards."""
    started = []

    def start(*flags):
        server = Server(*flags)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
