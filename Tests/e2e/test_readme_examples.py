"""Every example of the README that talks to the server, run verbatim (only the port changes)
against what `tools/serve` starts: the default demo models. Each picture must show what it asked
for: the colour named in the request dominates it."""
import json
import os
import re
import subprocess

import pytest

from conftest import REPO
from pictures import dominant_colour, text_chunk

PNG = b"\x89PNG\r\n\x1a\n"


def readme_blocks(language):
    with open(os.path.join(REPO, "README.md")) as file:
        text = file.read()
    return re.findall(r"```" + language + r"\n(.*?)```", text, flags=re.S)


def is_client_block(block):
    """A shell block of curl commands against the server (not tools/serve, docker or kubectl)."""
    lines = [line for line in block.splitlines() if line.strip() and not line.startswith("#")]
    return bool(lines) and all(line.startswith(("curl ", "ID=$(curl ")) for line in lines)


def localised(block, server):
    return block.replace("http://localhost:8080", server.base)


def run_shell(block, server, workdir):
    script = "set -euo pipefail\n" + localised(block, server)
    return subprocess.run(["bash", "-c", script], cwd=workdir, capture_output=True, text=True, timeout=600)


def test_every_client_example_is_found():
    shell = [block for block in readme_blocks("sh") if is_client_block(block)]
    keyed = [block for block in shell if "Authorization: Bearer" in block]
    assert len(shell) == 3 and len(keyed) == 1, shell
    assert len(readme_blocks("python")) == 3


def test_curl_examples(demo_server, workdir):
    blocks = [block for block in readme_blocks("sh") if is_client_block(block) and "Authorization" not in block]
    for block in blocks:
        result = run_shell(block, demo_server, workdir)
        assert result.returncode == 0, result.stderr
    expected = {"circle.png": "red", "caption.png": "blue", "square.png": "blue", "triangle.png": "green", "cross.png": "green"}
    for name, colour in expected.items():
        path = os.path.join(workdir, name)
        with open(path, "rb") as file:
            data = file.read()
        assert data.startswith(PNG), (name, data[:200])
        assert dominant_colour(path) == colour, name
        assert "Seed: " in text_chunk(data, "parameters"), name
    # The multipart stream ends with the final image of class 3 (red square).
    with open(os.path.join(workdir, "frames.txt"), "rb") as file:
        frames = file.read()
    final = frames.rsplit(b"\r\n\r\n" + PNG[:4], 1)[1]
    assert dominant_colour(PNG[:4] + final.split(b"\r\n--enatframe--")[0]) == "red"


def test_curl_example_with_a_key(start_server, workdir):
    block = next(block for block in readme_blocks("sh") if is_client_block(block) and "Authorization" in block)
    key = re.search(r"Bearer (\S+)\"", block).group(1)
    assert f"tools/serve --api-key {key}" in "\n".join(readme_blocks("sh"))
    server = start_server("--api-key", key)
    result = run_shell(block, server, workdir)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["object"] == "list"
    status, _, body = server.get("/v1/models")
    assert status == 401 and json.loads(body)["error"]["code"] == "missing_api_key"


def run_python(block, server, workdir, monkeypatch):
    monkeypatch.chdir(workdir)
    exec(compile(localised(block, server), "README.md", "exec"), {})


def test_python_sdk_example(demo_server, workdir, monkeypatch):
    run_python(readme_blocks("python")[0], demo_server, workdir, monkeypatch)
    for name in ("red-circle-0.png", "red-circle-1.png"):
        assert dominant_colour(os.path.join(workdir, name)) == "red", name
    with open(os.path.join(workdir, "red-circle-1.png"), "rb") as file:
        assert "Seed: 43" in text_chunk(file.read(), "parameters"), "image i of n has seed + i"


def test_python_sdk_stream_example(demo_server, workdir, monkeypatch, capsys):
    run_python(readme_blocks("python")[1], demo_server, workdir, monkeypatch)
    assert capsys.readouterr().out == "partial image 0\npartial image 1\n"
    assert dominant_colour(os.path.join(workdir, "blue-square.png")) == "blue"


def test_python_job_progress_example(demo_server, workdir, monkeypatch, capsys):
    run_python(readme_blocks("python")[2], demo_server, workdir, monkeypatch)
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "done, seed 3"
    assert "running 8 / 8" in out


@pytest.mark.parametrize("query", ["class=goldfish&seed=7&steps=4", "class=red%20circel", "class=12"])
def test_unknown_classes_never_reach_the_caption_model(demo_server, query):
    status, _, body = demo_server.get(f"/v1/jobs/new?{query}")
    assert status == 400, body[:100]
    error = json.loads(body)["error"]
    assert error["code"] == "unknown_class" and error["param"] == "class"
    if "circel" in query:
        assert "did you mean 'red circle'?" in error["message"]


def test_prompt_says_which_model_it_chose(demo_server):
    status, headers, _ = demo_server.get("/v1/jobs/new?prompt=blue%20cross&seed=1")
    assert status == 200 and headers["X-Model"] == "demo-shapes"
    status, headers, _ = demo_server.get("/v1/jobs/new?prompt=a%20large%20blue%20cross%20in%20the%20center&seed=1")
    assert status == 200 and headers["X-Model"] == "demo-captions"


def test_startup_log_gives_the_url_and_binds_loopback(demo_server):
    listening = demo_server.log_lines("listening")[0]
    assert listening["host"] == "127.0.0.1"
    assert listening["url"] == f"http://127.0.0.1:{demo_server.port}/"
