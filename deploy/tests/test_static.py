"""Static checks of the Dockerfile and the Kubernetes manifests: linters, schemas, and the
values that must agree between files (ports, threads and CPU, timeouts and termination grace)."""

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import (KUSTOMIZATIONS, REPO, STANDALONE_MANIFESTS, dockerfile_env, dockerfile_stage, find, run,
                      server_container, tool)


def test_hadolint_reports_nothing():
    process = run(tool("hadolint"), "--no-color", "--failure-threshold", "style", "Dockerfile")
    assert process.returncode == 0 and process.stdout.strip() == "", process.stdout + process.stderr


def test_every_hadolint_ignore_is_explained():
    lines = (REPO / "Dockerfile").read_text().splitlines()
    for number, line in enumerate(lines):
        if "hadolint ignore" in line:
            rules = line.split("=", 1)[1].split(",")
            explanation = " ".join(l for l in lines[max(0, number - 4):number] if l.startswith("#"))
            for rule in rules:
                assert rule.strip() in explanation, f"Dockerfile line {number + 1}: say why {rule} is ignored"


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_kubernetes_validate_strict(rendered, kustomization):
    path, _ = rendered[kustomization]
    process = run(tool("kubernetes-validate"), "--strict", str(path))
    problems = [l for l in process.stdout.splitlines() if not l.startswith("INFO")]
    assert process.returncode == 0 and not problems, process.stdout + process.stderr


def test_kubernetes_validate_strict_standalone_manifests():
    process = run(tool("kubernetes-validate"), "--strict", *STANDALONE_MANIFESTS)
    problems = [l for l in process.stdout.splitlines() if not l.startswith("INFO")]
    assert process.returncode == 0 and not problems, process.stdout + process.stderr


def test_yamllint_rendered_and_sources(rendered):
    sources = ["deploy", "Config/kustomization.yaml", ".yamllint"]
    paths = [str(path) for path, _ in rendered.values()]
    process = run(tool("yamllint"), "--strict", "-c", ".yamllint", *sources, *paths)
    assert process.returncode == 0 and process.stdout.strip() == "", process.stdout + process.stderr


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_ports_agree(rendered, kustomization):
    _, documents = rendered[kustomization]
    container = server_container(documents)
    env = {e["name"]: e.get("value") for e in container["env"]}
    port = int(env["ENAT_PORT"])
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"http": port}
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["port"] == "http"
    (service,) = find(documents, "Service")
    assert [p["targetPort"] for p in service["spec"]["ports"]] == ["http"]
    (deployment,) = find(documents, "Deployment")
    assert deployment["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"] == str(port)
    # The image listens where the manifests expect it by default, and EXPOSEs that port.
    assert dockerfile_env()["ENAT_PORT"] == str(port)
    assert f"EXPOSE {port}" in dockerfile_stage("runtime")


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_probes(rendered, kustomization):
    container = server_container(rendered[kustomization][1])
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_resources_guaranteed_and_threads_follow_cpu_limit(rendered, kustomization):
    container = server_container(rendered[kustomization][1])
    resources = container["resources"]
    assert resources["requests"] == resources["limits"]
    assert set(resources["limits"]) == {"cpu", "memory"}
    assert re.fullmatch(r"[1-9][0-9]*", str(resources["limits"]["cpu"])), "whole CPUs"
    env = {e["name"]: e for e in container["env"]}
    for name in ("ENAT_BLAS_THREADS", "OPENBLAS_NUM_THREADS"):
        assert env[name]["valueFrom"] == {
            "resourceFieldRef": {"containerName": "enat-serve", "resource": "limits.cpu", "divisor": "1"}}, name


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_termination_grace_covers_the_longest_stream(rendered, kustomization):
    (deployment,) = find(rendered[kustomization][1], "Deployment")
    spec = deployment["spec"]["template"]["spec"]
    container = server_container(rendered[kustomization][1])
    env = {e["name"]: e.get("value") for e in container["env"]}
    timeout = float(env["ENAT_REQUEST_TIMEOUT_SECONDS"])
    grace = float(env["ENAT_SHUTDOWN_GRACE_SECONDS"])
    command = container["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep"
    pre_stop = float(command[1])
    # A request admitted just before SIGTERM may run for its whole timeout; the drain allows it.
    assert grace >= timeout
    # The kubelet's clock starts with preStop; leave at least 10 s to flush and exit.
    assert spec["terminationGracePeriodSeconds"] >= pre_stop + grace + 10


def test_configmap_is_the_config_file_mounted_where_enat_config_points(rendered):
    _, documents = rendered["deploy/base"]
    (config_map,) = find(documents, "ConfigMap")
    assert config_map["data"] == {"enat-serve.json": (REPO / "Config/enat-serve.json").read_text()}
    json.loads(config_map["data"]["enat-serve.json"])
    container = server_container(documents)
    env = {e["name"]: e.get("value") for e in container["env"]}
    (deployment,) = find(documents, "Deployment")
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    mounts = [m for m in container["volumeMounts"] if volumes[m["name"]].get("configMap")]
    assert len(mounts) == 1 and volumes[mounts[0]["name"]]["configMap"]["name"] == config_map["metadata"]["name"]
    assert env["ENAT_CONFIG"] == mounts[0]["mountPath"] + "/enat-serve.json"


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS)
def test_selectors_match_the_pods(rendered, kustomization):
    documents = rendered[kustomization][1]
    (deployment,) = find(documents, "Deployment")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    selectors = [deployment["spec"]["selector"]["matchLabels"]]
    selectors += [s["spec"]["selector"] for s in find(documents, "Service")]
    selectors += [p["spec"]["selector"]["matchLabels"] for p in find(documents, "PodDisruptionBudget")]
    for selector in selectors:
        assert selector.items() <= labels.items()
    (hpa,) = find(documents, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                             "name": deployment["metadata"]["name"]}
    assert hpa["spec"]["minReplicas"] >= 2, "one replica can drain while another serves"


def test_official_overlay_mounts_its_models(rendered):
    documents = rendered["deploy/overlays/official-enat-l"][1]
    container = server_container(documents)
    env = {e["name"]: e.get("value") for e in container["env"]}
    (deployment,) = find(documents, "Deployment")
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    (pvc,) = find(documents, "PersistentVolumeClaim")
    mounts = [m for m in container["volumeMounts"]
              if volumes[m["name"]].get("persistentVolumeClaim", {}).get("claimName") == pvc["metadata"]["name"]]
    assert len(mounts) == 1 and mounts[0]["readOnly"]
    for model in env["ENAT_MODELS"].split(","):
        assert model.startswith(mounts[0]["mountPath"] + "/")


def test_queue_depth_overlay_scales_on_the_exported_metric(rendered):
    (hpa,) = find(rendered["deploy/overlays/queue-depth-autoscaling"][1], "HorizontalPodAutoscaler")
    names = [m["pods"]["metric"]["name"] for m in hpa["spec"]["metrics"] if m["type"] == "Pods"]
    assert names == ["enat_queue_depth"]
    adapter = yaml.safe_load((REPO / "deploy/overlays/queue-depth-autoscaling/prometheus-adapter-values.yaml").read_text())
    assert [r["name"]["as"] for r in adapter["rules"]["custom"]] == ["enat_queue_depth"]


def runtime_packages() -> set:
    """Packages the Dockerfile's runtime stage installs."""
    (install,) = [l for l in dockerfile_stage("runtime") if "apt-get install" in l]
    words = install.split("apt-get install", 1)[1].split("&&")[0].split()
    return {w for w in words if not w.startswith("-")}


def test_runtime_packages_are_exactly_those_ldd_shows(enat_binary):
    ldd = subprocess.run(["ldd", str(enat_binary)], capture_output=True, text=True, check=True).stdout
    libraries = re.findall(r"=> (/\S+)", ldd)
    assert libraries, ldd
    owners = set()
    for library in libraries:
        real = str(Path(library).resolve())
        # usrmerge: dpkg may know a library under /usr/lib or /lib.
        candidates = [real, real.replace("/usr/lib/", "/lib/", 1), library]
        for candidate in candidates:
            query = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
            if query.returncode == 0:
                owners.add(query.stdout.split(":")[0])
                break
        else:
            pytest.fail(f"{library} ({real}) belongs to no Debian package: the release build must link "
                        "only Debian libraries (is the Swift runtime linked statically?)")
    assert runtime_packages() == owners


def test_runtime_image_runs_the_server_as_pid_1():
    runtime = dockerfile_stage("runtime")
    assert 'ENTRYPOINT ["/usr/local/bin/enat"]' in runtime and 'CMD ["serve"]' in runtime
    assert any(re.fullmatch(r"USER [1-9][0-9]*:[1-9][0-9]*", l) for l in runtime), "numeric non-root user"
    (healthcheck,) = [l for l in runtime if l.startswith("HEALTHCHECK")]
    assert healthcheck.endswith('CMD ["/usr/local/bin/enat-healthcheck"]')
    build = " ".join(dockerfile_stage("build"))
    assert "tools/build release" in build and "deploy/docker/healthcheck /out/usr/local/bin/enat-healthcheck" in build
    # Everything reaches the runtime stage through /out, where the data is made world-readable
    # (the server's uid owns nothing in the image).
    assert "chmod -R u=rwX,go=rX /out/app" in build
    assert [l for l in runtime if l.startswith(("COPY", "ADD"))] == ["COPY --from=build /out/ /"]


def test_shellcheck_build_and_image_scripts():
    scripts = ["tools/build", "tools/check-deploy", "deploy/docker/healthcheck"]
    process = run(tool("shellcheck"), *scripts)
    assert process.returncode == 0, process.stdout + process.stderr


def dockerignored(path: str, patterns: list) -> bool:
    """Docker's rule: the last pattern that matches the path or one of its parent folders wins."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    ignored = False
    for pattern in patterns:
        exception = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        regex = re.escape(pattern).replace(r"\*\*/", "(?:.*/)?").replace(r"\*", "[^/]*")
        if any(re.fullmatch(regex, prefix) for prefix in prefixes):
            ignored = not exception
    return ignored


def test_dockerignore_keeps_what_the_build_copies():
    patterns = [l.strip() for l in (REPO / ".dockerignore").read_text().splitlines()
                if l.strip() and not l.startswith("#")]
    kept = ["Package.swift", "Sources/ENAT/ENATSampler.swift", "Tests/ENATTests/GoldenPaths.swift", "tools/build",
            "tools/install-deps", "Config/enat-serve.json", "Models/demo-shapes/config.json",
            "deploy/docker/healthcheck"]
    dropped = [".build/release/enat", ".build-deploy/x", ".git/HEAD", "README.md", "deploy/base/deployment.yaml",
               "deploy/tests/test_static.py", "tools/train/__pycache__/x.pyc", "Models/quality-classifier/config.json",
               "Config/kustomization.yaml"]
    assert [p for p in kept if dockerignored(p, patterns)] == []
    assert [p for p in dropped if not dockerignored(p, patterns)] == []
