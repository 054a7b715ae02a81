"""Every example of the README that talks to the server, run verbatim (only the port changes)
against what `tools/serve` starts: the default demo models. Each picture must show what it asked
for: the colour named in the request dominates it."""
import json
import os
import re
import subprocess

import pytest

from conftest import REPO
from pictures import dominant_colour, image_format_and_size, text_chunk

PNG = b"\x89PNG\r\n\x1a\n"


def readme_blocks(language):
    with open(os.path.join(REPO, "README.md")) as file:
        text = file.read()
    return re.findall(r"```" + language + r"\n(.*?)```", text, flags=re.S)


def commands(block):
    return [line for line in block.splitlines() if line.strip() and not line.startswith("#")]


def is_client_block(block):
    """A shell block of curl commands against the server, perhaps after the `tools/serve` line
    that starts it (not docker, kubectl or the build)."""
    lines = commands(block)
    return any(line.startswith("curl ") for line in lines) and all(
        line.startswith(("curl ", "ID=$(curl ", "tools/serve ")) for line in lines)


def serve_flags(block):
    """The flags of the block's `tools/serve` line (the test starts that server itself)."""
    line = next((line for line in commands(block) if line.startswith("tools/serve ")), "tools/serve")
    return line.split("#")[0].split()[1:]


def localised(block, server):
    lines = [line for line in block.splitlines() if not line.startswith("tools/serve")]
    return "\n".join(lines).replace("http://localhost:8080", server.base)


def run_shell(block, server, workdir):
    script = "set -euo pipefail\n" + localised(block, server)
    return subprocess.run(["bash", "-c", script], cwd=workdir, capture_output=True, text=True, timeout=600)


COLOURS = ("red", "green", "blue")


def requested_colour(line, block):
    """The colour a request names; a job's image is what its `ID=` line asked for."""
    if "$ID" in line:
        line = next(other for other in commands(block) if other.startswith("ID="))
    found = [colour for colour in COLOURS if colour in line]
    return found[0] if len(found) == 1 else None


def test_every_client_example_is_found():
    shell = [block for block in readme_blocks("sh") if is_client_block(block)]
    keyed = [block for block in shell if "Authorization: Bearer" in block]
    assert len(shell) == 4 and len(keyed) == 1, shell
    assert len(readme_blocks("python")) == 5


def test_curl_examples(demo_server, workdir):
    blocks = [block for block in readme_blocks("sh") if is_client_block(block) and not serve_flags(block)]
    assert len(blocks) == 3
    checked = 0
    for number, block in enumerate(blocks):
        folder = os.path.join(workdir, str(number))
        os.mkdir(folder)
        result = run_shell(block, demo_server, folder)
        assert result.returncode == 0, result.stderr
        for line in commands(block):
            match = re.search(r" -o (\S+)", line)
            if not match or not match.group(1).endswith(".png"):
                continue
            path = os.path.join(folder, match.group(1))
            with open(path, "rb") as file:
                data = file.read()
            assert data.startswith(PNG), (line, data[:200])
            assert "Seed: " in text_chunk(data, "parameters"), line
            assert dominant_colour(path) == requested_colour(line, block), line
            checked += 1
        if "frames.txt" in block:
            # The multipart stream ends with the final image of class 3 (red square).
            with open(os.path.join(folder, "frames.txt"), "rb") as file:
                frames = file.read()
            final = frames.rsplit(b"\r\n\r\n" + PNG[:4], 1)[1]
            assert dominant_colour(PNG[:4] + final.split(b"\r\n--enatframe--")[0]) == "red"
    assert checked >= 8


def test_curl_example_with_a_key(start_server, workdir):
    block = next(block for block in readme_blocks("sh") if is_client_block(block) and "Authorization" in block)
    flags = serve_flags(block)
    assert flags[0] == "--api-key"
    server = start_server(*flags, default_models=True)
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


def test_python_edit_example(demo_server, workdir, monkeypatch):
    run_python(readme_blocks("python")[2], demo_server, workdir, monkeypatch)
    with open(os.path.join(workdir, "edited.png"), "rb") as file:
        data = file.read()
    assert data.startswith(PNG) and "Seed: 1" in text_chunk(data, "parameters")


def test_python_output_parameters_example(demo_server, workdir, monkeypatch, capsys):
    run_python(readme_blocks("python")[3], demo_server, workdir, monkeypatch)
    assert capsys.readouterr().out == "1024x1024 jpeg high\n"
    with open(os.path.join(workdir, "green-cross.jpg"), "rb") as file:
        assert image_format_and_size(file.read()) == ("jpeg", 1024, 1024)


def test_python_job_progress_example(demo_server, workdir, monkeypatch, capsys):
    run_python(readme_blocks("python")[4], demo_server, workdir, monkeypatch)
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
