"""curl, as a person would use it (the README's curl examples)."""
import json
import os
import subprocess

PNG = b"\x89PNG\r\n\x1a\n"


def curl(*args):
    return subprocess.run(["curl", "--silent", "--show-error", "--fail-with-body", *args], capture_output=True, check=True)


def test_png_from_the_get_form(server, workdir):
    out = os.path.join(workdir, "out.png")
    curl("-o", out, f"{server.base}/v1/jobs/new?class=goldfish&seed=7&steps=4")
    with open(out, "rb") as file:
        assert file.read(8) == PNG


def test_png_from_a_json_job(server, workdir):
    out = os.path.join(workdir, "job.png")
    curl("-o", out, "-H", "Accept: image/png", "--json", '{"prompt": "tench", "seed": 1, "steps": 4}', f"{server.base}/v1/jobs")
    with open(out, "rb") as file:
        assert file.read(8) == PNG


def test_multipart_stream_of_frames(server):
    result = curl("-N", f"{server.base}/v1/jobs/new?class_label=207&steps=4&stream=multipart")
    body = result.stdout
    assert body.startswith(b"--enatframe\r\nContent-Type: image/png\r\n")
    assert body.endswith(b"\r\n--enatframe--\r\n")
    # 4 step frames and the final image, each a whole PNG.
    parts = body.split(b"\r\n--enatframe")[:-1]
    assert len(parts) == 5
    for part in parts:
        head, _, png = part.partition(b"\r\n\r\n")
        length = int([line for line in head.split(b"\r\n") if line.startswith(b"Content-Length:")][0].split(b":")[1])
        assert len(png) == length and png.startswith(PNG)


def test_sse_stream_and_reattach(server):
    created = json.loads(curl("--json", '{"class": "goldfish", "steps": 4}', f"{server.base}/v1/jobs").stdout)
    job_id = created["id"]
    assert created["status"] in ("queued", "running")
    stream = curl("-N", "-H", "Accept: text/event-stream", f"{server.base}/v1/jobs/{job_id}/stream").stdout.decode()
    events = [block for block in stream.split("\n\n") if block.startswith("event: ")]
    assert events[-1].startswith("event: completed\n")
    progress = [json.loads(block.split("data: ", 1)[1]) for block in events if block.startswith("event: progress")]
    assert [p["step"] for p in progress if p.get("image")] == [1, 2, 3, 4]
    assert all(p["steps"] == 4 for p in progress)


def test_ndjson_and_cancel(server):
    created = json.loads(curl("--json", '{"class_label": 1, "steps": 64}', f"{server.base}/v1/jobs").stdout)
    cancelled = json.loads(curl("-X", "DELETE", f"{server.base}/v1/jobs/{created['id']}").stdout)
    assert cancelled["id"] == created["id"]
    lines = curl("-N", f"{server.base}/v1/jobs/{created['id']}/stream?stream=ndjson").stdout.decode().splitlines()
    last = json.loads(lines[-1])
    assert last["type"] == "error" and last["error"]["code"] == "job_cancelled"
    assert server.job(created["id"])["status"] == "cancelled"


def test_errors_are_openai_shaped(server):
    result = subprocess.run(
        ["curl", "-s", "-w", "\n%{http_code}", "--json", '{"prompt": "no such class"}', f"{server.base}/v1/images/generations"],
        capture_output=True, check=True)
    body, _, code = result.stdout.decode().rpartition("\n")
    assert code == "400"
    error = json.loads(body)["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["param"] == "prompt"
