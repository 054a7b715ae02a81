"""The release server started with the environment the manifests and the Dockerfile give it.

Each rendered Deployment's ENAT_* variables are turned into a local environment as the kubelet
would (resourceFieldRef limits.cpu resolved, the ConfigMap written to a file at ENAT_CONFIG's
place), then `enat serve` must start with exactly them, report the settings they set, serve
/healthz, /readyz, /v1/models and /metrics, pass the image's HEALTHCHECK script, and drain and
exit 0 on SIGTERM also as PID 1 (as in a container). Only the listening address is changed: the
server binds 127.0.0.1 on a free port. Paths inside the image (/app/...) map to the repository
(the image's /app is a copy of it); models on the official overlay's volume, which CI does not
have, are replaced by the demo bundle, so that run checks every variable but the model path.
A second set of runs gives each variable a value the server must reject, which shows the server
reads every name the manifests set (a misspelt name would be silently ignored otherwise)."""

import http.client
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from conftest import REPO, dockerfile_env, find, server_container

READY_TIMEOUT = 120  # seconds to load the demo models on a busy 2-core machine


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cpu_count(quantity: str) -> int:
    """A CPU quantity with divisor 1, as the downward API gives it: rounded up."""
    return math.ceil(float(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity))


def local_path(path: str, stand_in: str) -> str:
    if path.startswith("/app/"):
        return str(REPO / path[len("/app/"):])
    return stand_in


def manifest_environment(documents: list, tmp_path: Path) -> tuple[dict, dict]:
    """(environment as the container sees it, the same made runnable here)."""
    container = server_container(documents)
    (config_map,) = find(documents, "ConfigMap")
    manifest = {}
    for variable in container["env"]:
        if "value" in variable:
            manifest[variable["name"]] = variable["value"]
        else:
            field = variable["valueFrom"]["resourceFieldRef"]
            assert field["resource"] == "limits.cpu" and field["divisor"] == "1"
            manifest[variable["name"]] = str(cpu_count(str(container["resources"]["limits"]["cpu"])))
    local = dict(manifest)
    config = tmp_path / "enat-serve.json"
    config.write_text(config_map["data"]["enat-serve.json"])
    local["ENAT_CONFIG"] = str(config)
    local["ENAT_MODELS"] = ",".join(local_path(p, str(REPO / "Models/demo-shapes")) for p in manifest["ENAT_MODELS"].split(","))
    local["ENAT_HOST"] = "127.0.0.1"
    local["ENAT_PORT"] = str(free_port())
    # The start-up log line that reports the effective settings is at level info.
    local.setdefault("ENAT_LOG_LEVEL", "info")
    return manifest, local


def base_environment() -> dict:
    """This process's environment without any ENAT_* or OpenBLAS setting of the machine."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("ENAT_", "OPENBLAS_"))}


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


class Server:
    """`enat serve` with a given environment; stderr (JSON log lines) goes to a file."""

    def __init__(self, binary: Path, environment: dict, log: Path, as_pid_1: bool = False):
        self.log = log
        command = [str(binary), "serve"]
        if as_pid_1:
            # A new PID namespace: enat is PID 1 there, as in a container started in exec form. The
            # kernel then delivers SIGTERM only if enat handles it, exactly as `docker stop` finds it.
            command = ["unshare", "--pid", "--fork", "--kill-child", *command]
        self.process = subprocess.Popen(command, cwd=REPO, env={**base_environment(), **environment},
                                        stdout=subprocess.DEVNULL, stderr=log.open("w"))
        self.port = int(environment["ENAT_PORT"])
        self.as_pid_1 = as_pid_1

    def lines(self) -> list:
        result = []
        for line in self.log.read_text().splitlines():
            try:
                result.append(json.loads(line))
            except json.JSONDecodeError:
                pass
        return result

    def wait_ready(self):
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"enat serve exited:\n{self.log.read_text()}"
            try:
                if get(self.port, "/readyz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.25)
        pytest.fail(f"not ready after {READY_TIMEOUT} s:\n{self.log.read_text()}")

    def server_pid(self) -> int:
        """The enat process (under unshare, its only child)."""
        if not self.as_pid_1:
            return self.process.pid
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        assert len(children) == 1
        return int(children[0])

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def servers():
    started = []
    yield lambda *args, **kwargs: started.append(Server(*args, **kwargs)) or started[-1]
    for server in started:
        server.stop()


def stream_across_sigterm(server: Server, model: dict) -> list:
    """Streams one generation, sends SIGTERM after its first event, and returns the event names."""
    request = {"model": model["id"], "stream": True, "partial_images": 3, "steps": 32, "seed": 1}
    request.update({"class_label": 0} if model["kind"] == "class" else {"prompt": "a red circle"})
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
    connection.request("POST", "/v1/images/generations", json.dumps(request), {"Content-Type": "application/json"})
    response = connection.getresponse()
    assert response.status == 200, response.read()
    events = []
    for raw in response:
        line = raw.decode().strip()
        if line.startswith("event:"):
            events.append(line.split(":", 1)[1].strip())
            if len(events) == 1:
                os.kill(server.server_pid(), signal.SIGTERM)
    connection.close()
    return events


def can_be_pid_1() -> bool:
    """Whether this machine lets us start a PID namespace (root, or user namespaces allowed)."""
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "--pid", "--fork", "true"], capture_output=True).returncode == 0


def documented_variables(binary: Path) -> set:
    help_text = subprocess.run([str(binary), "serve", "--help"], capture_output=True, text=True, check=True).stdout
    return set(re.findall(r"\bENAT_[A-Z_]+\b", help_text))


def test_every_enat_variable_set_is_documented_by_the_server(rendered, enat_binary):
    documented = documented_variables(enat_binary)
    assert {"ENAT_CONFIG", "ENAT_MODELS", "ENAT_PORT"} <= documented, "enat serve --help names its variables"
    set_here = {k for k in dockerfile_env() if k.startswith("ENAT_")}
    for _, documents in rendered.values():
        set_here |= {e["name"] for e in server_container(documents)["env"] if e["name"].startswith("ENAT_")}
    assert set_here <= documented, f"not documented by enat serve --help: {sorted(set_here - documented)}"


def bundle_id(path: str) -> str:
    return json.loads((Path(path) / "config.json").read_text())["id"]


@pytest.mark.parametrize("kustomization", ["deploy/base", "deploy/overlays/official-enat-l"])
def test_server_honours_the_manifest_environment(rendered, enat_binary, servers, tmp_path, kustomization):
    manifest, local = manifest_environment(rendered[kustomization][1], tmp_path)
    server = servers(enat_binary, local, tmp_path / "serve.log", as_pid_1=can_be_pid_1())
    server.wait_ready()

    (settings,) = [l for l in server.lines() if l.get("msg") == "configuration"]
    assert settings["file"] == local["ENAT_CONFIG"]
    assert settings["max_batch_size"] == int(manifest["ENAT_MAX_BATCH_SIZE"])
    assert settings["blas_threads"] == int(manifest["ENAT_BLAS_THREADS"]) == int(manifest["OPENBLAS_NUM_THREADS"])
    assert (settings["host"], settings["port"]) == ("127.0.0.1", server.port)

    assert get(server.port, "/healthz")[0] == 200
    status, body = get(server.port, "/v1/models")
    assert status == 200
    assert [m["id"] for m in json.loads(body)["data"]] == [bundle_id(p) for p in local["ENAT_MODELS"].split(",")]
    status, metrics = get(server.port, "/metrics")
    assert status == 200 and re.search(r"^enat_queue_depth 0$", metrics, re.M), "the HPA overlay's metric"

    healthcheck = str(REPO / "deploy/docker/healthcheck")
    assert subprocess.run([healthcheck], env={"ENAT_PORT": str(server.port)}, timeout=10).returncode == 0
    assert subprocess.run([healthcheck, "127.0.0.1", str(free_port())], timeout=10,
                          stderr=subprocess.DEVNULL).returncode != 0

    # SIGTERM in the middle of a streamed generation: the stream still ends with the image, then
    # the server exits 0 (as PID 1, this also shows the signal reaches it).
    events = stream_across_sigterm(server, json.loads(body)["data"][0])
    assert events[-1] == "image_generation.completed", events
    assert server.process.wait(timeout=60) == 0, server.log.read_text()
    messages = [l["msg"] for l in server.lines()]
    assert "draining" in messages and messages[-1] == "stopped"


def poisoned(name: str, value: str) -> str:
    """A value of the variable's kind that the server has to refuse."""
    if name in ("ENAT_CONFIG", "ENAT_MODELS"):
        return "/nonexistent/enat-check-deploy"
    if name == "ENAT_HOST":
        return "host.invalid"
    if name == "ENAT_LOG_LEVEL":
        return "loudest"
    return "not-a-number" if re.fullmatch(r"[0-9.]+", value) else pytest.fail(f"no bad value known for {name}")


def manifest_variable_names() -> list:
    """The ENAT_* names any Deployment or Deployment patch under deploy/ sets (read at collection)."""
    names = set()
    for path in sorted((REPO / "deploy").rglob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if isinstance(document, dict) and document.get("kind") == "Deployment":
                for container in document["spec"]["template"]["spec"]["containers"]:
                    names |= {e["name"] for e in container.get("env", []) if e["name"].startswith("ENAT_")}
    return sorted(names)


@pytest.mark.parametrize("name", manifest_variable_names())
def test_server_reads_every_variable_the_manifests_set(rendered, enat_binary, tmp_path, name):
    _, local = manifest_environment(rendered["deploy/base"][1], tmp_path)
    bad = poisoned(name, local[name])
    local[name] = bad
    log = tmp_path / "serve.log"
    process = subprocess.Popen([str(enat_binary), "serve"], cwd=REPO, env={**base_environment(), **local},
                               stdout=subprocess.DEVNULL, stderr=log.open("w"))
    deadline = time.monotonic() + READY_TIMEOUT
    try:
        while process.poll() is None:
            if '"msg":"listening"' in log.read_text() or time.monotonic() > deadline:
                pytest.fail(f"enat serve started with {name}={bad}: the variable is not read\n{log.read_text()}")
            time.sleep(0.1)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    stderr = log.read_text()
    assert process.returncode != 0
    assert bad in stderr or name in stderr, stderr
