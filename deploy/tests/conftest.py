"""Shared fixtures of the deployment checks: the repository, the tools, the rendered manifests.

tools/check-deploy installs the tools into a virtual environment and runs these tests with its
Python, so every tool is found beside `sys.executable`.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
TOOLS = Path(sys.executable).parent

# Every kustomization a user can apply; each must render, validate and lint clean.
KUSTOMIZATIONS = ["deploy/base", "deploy/overlays/official-enat-l", "deploy/overlays/queue-depth-autoscaling"]
# Manifests applied with `kubectl apply -f` on their own, outside any kustomization.
STANDALONE_MANIFESTS = ["deploy/overlays/official-enat-l/pvc.yaml", "deploy/overlays/official-enat-l/model-loader.yaml"]


def tool(name: str) -> str:
    """A tool from the check's virtual environment (never one that happens to be on PATH)."""
    path = TOOLS / name
    if not path.exists():
        pytest.fail(f"{name} is not installed beside {sys.executable}: run tools/check-deploy")
    return str(path)


def run(*command: str, **kwargs) -> subprocess.CompletedProcess:
    """Runs a command from the repository root, capturing text output."""
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, **kwargs)


@pytest.fixture(scope="session")
def rendered(tmp_path_factory) -> dict:
    """`kubectl kustomize` output of every kustomization: {name: (path of the YAML, [documents])}."""
    out = tmp_path_factory.mktemp("rendered")
    result = {}
    for kustomization in KUSTOMIZATIONS:
        process = run(tool("kubectl"), "kustomize", kustomization)
        assert process.returncode == 0, f"kubectl kustomize {kustomization} failed:\n{process.stderr}"
        path = out / (kustomization.replace("/", "_") + ".yaml")
        path.write_text(process.stdout)
        result[kustomization] = (path, [d for d in yaml.safe_load_all(process.stdout) if d])
    return result


def find(documents: list, kind: str) -> list:
    return [d for d in documents if d.get("kind") == kind]


def server_container(documents: list) -> dict:
    """The enat-serve container of the one Deployment."""
    deployments = find(documents, "Deployment")
    assert len(deployments) == 1
    containers = deployments[0]["spec"]["template"]["spec"]["containers"]
    return next(c for c in containers if c["name"] == "enat-serve")


def dockerfile_stage(name: str) -> list:
    """Instructions of one Dockerfile stage, continuation lines joined, comments dropped."""
    lines, current = [], ""
    for raw in (REPO / "Dockerfile").read_text().splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        current += " " + stripped.rstrip("\\").strip() if current else stripped.rstrip("\\").strip()
        if not stripped.endswith("\\"):
            lines.append(current)
            current = ""
    stages, stage = {}, None
    for line in lines:
        if line.upper().startswith("FROM "):
            words = line.split()
            stage = words[-1] if len(words) >= 4 and words[-2].upper() == "AS" else words[1]
            stages[stage] = []
        elif stage is not None:
            stages[stage].append(line)
    assert name in stages, f"no Dockerfile stage {name}"
    return stages[name]


def dockerfile_env() -> dict:
    """ENV settings of the runtime stage (`ENV K=V K2=V2` form)."""
    env = {}
    for line in dockerfile_stage("runtime"):
        if line.upper().startswith("ENV "):
            for pair in line[4:].split():
                key, _, value = pair.partition("=")
                env[key] = value
    return env


@pytest.fixture(scope="session")
def enat_binary() -> Path:
    """The release build tools/check-deploy made with tools/build release (the image's build)."""
    path = Path(os.environ.get("ENAT_BINARY", REPO / ".build/release/enat"))
    if not path.exists():
        pytest.fail(f"{path} does not exist: tools/check-deploy builds it with tools/build release")
    return path
