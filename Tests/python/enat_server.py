"""One `enat serve` process on loopback for the Python suites (Tests/e2e, Tests/conformance).

Both suites start the real binary the same way: a free port chosen by the server (`--port 0`),
read back from its `listening` JSON log line. ENAT_BINARY names the binary (the suites' tools
build one); the default is the release build in the repository.
"""
import json
import os
import signal
import subprocess
import threading

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY = os.environ.get("ENAT_BINARY", os.path.join(REPO, ".build", "release", "enat"))


class ServerProcess:
    """`enat serve` with the given flags; its JSON log lines are collected from stderr."""

    def __init__(self, *flags, start_timeout=120):
        if not os.path.exists(BINARY):
            pytest.fail(f"no binary at {BINARY}; run the suite's tool (it builds one) or set ENAT_BINARY")
        self.logs = []
        self.port = None
        self.process = subprocess.Popen(
            [BINARY, "serve", "--host", "127.0.0.1", "--port", "0", "--blas-threads", "1",
             "--log-format", "json", *flags],
            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        listening = threading.Event()

        def read_logs():
            for line in self.process.stderr:
                try:
                    entry = json.loads(line)
                except ValueError:
                    entry = {"msg": "(text)", "line": line.rstrip()}
                self.logs.append(entry)
                if entry.get("msg") == "listening":
                    self.port = entry["port"]
                    listening.set()

        threading.Thread(target=read_logs, daemon=True).start()
        if not listening.wait(start_timeout):
            self.process.kill()
            pytest.fail(f"server did not start: {self.logs}")
        self.address = ("127.0.0.1", self.port)
        self.base = f"http://127.0.0.1:{self.port}"

    def log_lines(self, message):
        return [entry for entry in self.logs if entry.get("msg") == message]

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout)
