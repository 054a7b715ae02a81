"""End-to-end fixtures: the real `enat` binary on a loopback port, driven by real clients.

`tools/e2e` builds the binary and sets ENAT_BINARY. Most tests run the random-weight test model
(`--model random:tiny`); `demo_server` is what `tools/serve` starts: the default demo models.
"""
import json
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
from enat_server import BINARY, REPO, ServerProcess  # noqa: E402,F401  (re-exported to the tests)


class Server(ServerProcess):
    """`enat serve` on the random tiny model (or the default demo models), ready when built."""

    def __init__(self, *flags, default_models=False):
        models = [] if default_models else ["--model", "random:tiny"]
        super().__init__(*models, *flags)
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
