"""Fixtures of the HTTP/1.1 conformance and slow-client checks.

`tools/conformance` builds the release binary and sets ENAT_BINARY; the server runs the
random-weight test model on a loopback port. ENAT_CONFORMANCE_TARGET=host:port runs the RFC 9112
cases against a server that is already running instead (the slow-client check always starts its
own, since it needs to know the server's limits).
"""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))
from enat_server import ServerProcess  # noqa: E402


class Server(ServerProcess):
    """The random-weight test model on 127.0.0.1."""

    def __init__(self, *flags):
        super().__init__("--model", "random:tiny", *flags)


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
