"""End-to-end fixtures: the real `enat` binary on a loopback port, driven by real clients.

`tools/e2e` builds the binary and sets ENAT_BINARY. Most tests run the random-weight test model
(`--model random:tiny`); `demo_server` is what `tools/serve` starts: the default demo models.
"""
import json
import os
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY = os.environ.get("ENAT_BINARY", os.path.join(REPO, ".build", "release", "enat"))


class Server:
    """One `enat serve` process; its JSON log lines are collected from stderr."""

    def __init__(self, *flags, default_models=False):
        if not os.path.exists(BINARY):
            pytest.fail(f"no binary at {BINARY}; run tools/e2e (it builds one) or set ENAT_BINARY")
        self.logs = []
        models = [] if default_models else ["--model", "random:tiny"]
        self.process = subprocess.Popen(
            [BINARY, "serve", *models, "--port", "0", "--blas-threads", "1", "--log-format", "json", *flags],
            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        self.port = None
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
        if not listening.wait(120):
            self.process.kill()
            pytest.fail(f"server did not start: {self.logs}")
        self.base = f"http://127.0.0.1:{self.port}"
        self.wait_ready()

    def wait_ready(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.base + "/readyz", timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError):
                pass
            time.sleep(0.1)
        pytest.fail("server never became ready")

    def log_lines(self, message):
        return [entry for entry in self.logs if entry.get("msg") == message]

    def get(self, path, headers=None, timeout=120):
        request = urllib.request.Request(self.base + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def post(self, path, body, headers=None, timeout=120):
        request = urllib.request.Request(
            self.base + path, data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def job(self, job_id):
        status, _, body = self.get(f"/v1/jobs/{job_id}")
        assert status == 200, body
        return json.loads(body)

    def metrics(self):
        """The /metrics page as {sample name with labels: value}."""
        _, _, body = self.get("/metrics")
        samples = {}
        for line in body.decode().splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                samples[name] = float(value)
        return samples

    def stop(self, sig=signal.SIGTERM, timeout=60):
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout)


@pytest.fixture(scope="session")
def server():
    """The shared server: default limits, the random tiny model."""
    instance = Server()
    yield instance
    assert instance.stop() == 0


@pytest.fixture(scope="session")
def demo_server():
    """What `tools/serve` starts: the default configuration file and the demo models."""
    instance = Server(default_models=True)
    yield instance
    assert instance.stop() == 0


@pytest.fixture
def start_server():
    """Starts servers with extra flags; stops whatever is still running afterwards."""
    started = []

    def start(*flags, default_models=False):
        instance = Server(*flags, default_models=default_models)
        started.append(instance)
        return instance

    yield start
    for instance in started:
        if instance.process.poll() is None:
            instance.process.kill()
            instance.process.wait()


@pytest.fixture
def workdir():
    with tempfile.TemporaryDirectory(prefix="enat-e2e-") as path:
        yield path
