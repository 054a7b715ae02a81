"""`POST /v1/jobs` with an edit: the image and mask as base64 in JSON or as files of a
multipart form (curl -F), streamed as every job is (SSE, multipart frames, NDJSON, PNG). The
result equals the `/v1/images/edits` one for the same inputs and seed, and outside the mask the
pixels stay within the VQGAN's round-trip error of the source."""
import base64
import json
import subprocess

import pytest
from openai import OpenAI

from pictures import PNG, decode_png, mean_difference, png_rgba, png_size, quadrant_mask, red_circle_bottom_left

# The source's red circle lies in the bottom-left quadrant: that is what the mask regenerates,
# as another class (a blue square), so the quadrant must change.
REGENERATED = (0, 32, 32, 64)
KEPT = [(0, 0, 32, 32), (32, 0, 64, 32), (32, 32, 64, 64)]


def bottom_left_mask():
    return png_rgba(64, 64, lambda x, y: (0, 0, 0, 0) if x < 32 and y >= 32 else (0, 0, 0, 255))


def assert_kept(edited, source):
    """Outside the mask, within the VQGAN's round-trip error of the source; inside, redrawn."""
    for region in KEPT:
        assert mean_difference(edited, source, region) < 5, region
    assert mean_difference(edited, source, REGENERATED) > 10


def curl(*args):
    return subprocess.run(["curl", "--silent", "--show-error", *args], capture_output=True, check=True).stdout


def answer(*args):
    """(status, body) of a curl call that may fail."""
    out = curl("-w", "\n%{http_code}", *args)
    body, _, code = out.rpartition(b"\n")
    return int(code), body


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A red circle in the bottom-left quadrant, as a file for curl."""
    png = red_circle_bottom_left()
    folder = tmp_path_factory.mktemp("job-edits")
    (folder / "source.png").write_bytes(png)
    (folder / "mask.png").write_bytes(bottom_left_mask())
    return folder, png


def sse_events(text):
    blocks = [block for block in text.split("\n\n") if block.startswith("event: ")]
    return [(block.split("\n", 1)[0][len("event: "):], json.loads(block.split("data: ", 1)[1])) for block in blocks]


def test_json_base64_edit_job_keeps_the_unmasked_pixels(demo_server, source):
    _, png = source
    body = {
        "model": "demo-shapes", "class": "blue square", "seed": 5,
        "image": base64.b64encode(png).decode(),
        "mask": "data:image/png;base64," + base64.b64encode(bottom_left_mask()).decode(),
    }
    status, headers, edited = demo_server.post("/v1/jobs?stream=png", body)
    assert status == 200, edited
    assert png_size(edited) == (64, 64)
    assert_kept(edited, png)

    # The same edit through OpenAI's endpoint: the same request reaches the scheduler.
    client = OpenAI(base_url=f"{demo_server.base}/v1", api_key="unused")
    openai_edit = client.images.edit(
        model="demo-shapes", image=("source.png", png, "image/png"), mask=("mask.png", bottom_left_mask(), "image/png"),
        prompt="blue square", extra_body={"seed": 5})
    assert decode_png(base64.b64decode(openai_edit.data[0].b64_json))[3] == decode_png(edited)[3]

    # Answered as JSON, the job is looked up and fetched as any other.
    status, _, created = demo_server.post("/v1/jobs", body)
    assert status == 202, created
    job_id = json.loads(created)["id"]
    status, _, fetched = demo_server.get(f"/v1/jobs/{job_id}/image")
    assert status == 200 and decode_png(fetched)[3] == decode_png(edited)[3]


def test_edits_keep_the_image_tokens_outside_the_mask(demo_server, source):
    """The round trip: two edits of one image under one mask, another class and seed each. A
    finished job's status carries its tokens: outside the mask both are the image's encoding
    (equal), inside each was drawn anew."""
    _, png = source

    def edited_tokens(klass, seed):
        body = {"model": "demo-shapes", "class": klass, "seed": seed, "image": base64.b64encode(png).decode(),
                "mask": base64.b64encode(bottom_left_mask()).decode()}
        status, _, created = demo_server.post("/v1/jobs", body)
        assert status == 202, created
        job_id = json.loads(created)["id"]
        assert demo_server.get(f"/v1/jobs/{job_id}/image")[0] == 200  # waits for the image
        status, _, info = demo_server.get(f"/v1/jobs/{job_id}")
        assert status == 200
        return json.loads(info)["tokens"]

    first, second = edited_tokens("red circle", 5), edited_tokens("blue square", 6)
    assert len(first) == len(second) == 64
    regenerated = [i for i in range(64) if i % 8 < 4 and i // 8 >= 4]
    kept = [i for i in range(64) if i not in regenerated]
    assert [first[i] for i in kept] == [second[i] for i in kept]
    assert [first[i] for i in regenerated] != [second[i] for i in regenerated]


def test_multipart_edit_job_streamed_as_sse(demo_server, source):
    folder, png = source
    text = curl(
        "-N", "-H", "Accept: text/event-stream", "-F", f"image=@{folder / 'source.png'}", "-F", f"mask=@{folder / 'mask.png'}",
        "-F", "model=demo-shapes", "-F", "class=blue square", "-F", "seed=7", "-F", "steps=6", "-F", "preview_steps=1,3,5",
        f"{demo_server.base}/v1/jobs").decode()
    events = sse_events(text)
    assert events[-1][0] == "completed", text[-500:]
    frames = [data for kind, data in events if kind == "progress" and data.get("image")]
    assert [frame["step"] for frame in frames] == [2, 4, 6]
    # Every frame shows the kept part of the source: the masked area fills in beside it.
    for frame in frames:
        for region in KEPT:
            assert mean_difference(base64.b64decode(frame["image"]), png, region) < 5, (frame["step"], region)
    assert_kept(base64.b64decode(events[-1][1]["image"]), png)


def test_multipart_edit_job_streamed_as_frames(demo_server, source):
    folder, png = source
    body = curl(
        "-N", "-F", f"image=@{folder / 'source.png'}", "-F", "strength=0.5", "-F", "prompt=red circle", "-F", "steps=4",
        "-F", "model=demo-shapes", f"{demo_server.base}/v1/jobs?stream=multipart")
    assert body.startswith(b"--enatframe\r\nContent-Type: image/png\r\n")
    parts = body.split(b"\r\n--enatframe")[:-1]
    assert len(parts) == 5, "4 step frames and the final image"
    for part in parts:
        frame = part.partition(b"\r\n\r\n")[2]
        assert frame.startswith(PNG) and png_size(frame) == (64, 64)


def test_an_image_with_transparent_pixels_is_its_own_mask(demo_server):
    holey = png_rgba(64, 64, lambda x, y: (200, 200, 200, 0 if x >= 48 else 255))
    lines = curl(
        "--json", json.dumps({"model": "demo-shapes", "prompt": "blue circle", "image": base64.b64encode(holey).decode(), "steps": 4}),
        f"{demo_server.base}/v1/jobs?stream=ndjson").decode().splitlines()
    last = json.loads(lines[-1])
    assert last["type"] == "completed", last
    assert png_size(base64.b64decode(last["image"])) == (64, 64)


OPAQUE = png_rgba(64, 64, lambda x, y: (9, 9, 9, 255))


@pytest.mark.parametrize("name, fields, param", [
    ("not base64", {"image": "not base64!"}, "image"),
    ("not an image", {"image": base64.b64encode(b"GIF89a...").decode()}, "image"),
    ("data URL without base64", {"image": "data:image/png,abc"}, "image"),
    ("image not a string", {"image": 12}, "image"),
    ("mask without image", {"mask": base64.b64encode(quadrant_mask()).decode()}, "image"),
    ("strength without image", {"strength": 0.5}, "image"),
    ("nothing to regenerate", {"image": base64.b64encode(OPAQUE).decode()}, "mask"),
    ("mask of another size", {"image": base64.b64encode(OPAQUE).decode(), "mask": base64.b64encode(quadrant_mask(32)).decode()}, "mask"),
    ("strength with a mask", {"image": base64.b64encode(OPAQUE).decode(), "mask": base64.b64encode(quadrant_mask()).decode(), "strength": 0.5}, "strength"),
    ("strength out of range", {"image": base64.b64encode(OPAQUE).decode(), "strength": 1.5}, "strength"),
])
def test_bad_json_edits_are_400s_naming_the_field(demo_server, name, fields, param):
    status, _, body = demo_server.post("/v1/jobs", {"model": "demo-shapes", "class": "red circle", **fields})
    assert status == 400, (name, body)
    assert json.loads(body)["error"]["param"] == param, (name, body)


@pytest.mark.parametrize("name, form, param", [
    ("not an image", ["-F", "image=@{folder}/mask.png;type=image/png", "-F", "mask=@{folder}/junk.bin"], "mask"),
    ("two images", ["-F", "image=@{folder}/source.png", "-F", "image[]=@{folder}/source.png", "-F", "strength=0.5"], "image"),
    ("two masks", ["-F", "image=@{folder}/source.png", "-F", "mask=@{folder}/mask.png", "-F", "mask=@{folder}/mask.png"], "mask"),
    ("mask without image", ["-F", "mask=@{folder}/mask.png"], "image"),
    ("unknown field", ["-F", "image=@{folder}/source.png", "-F", "strenght=0.5"], "strenght"),
    ("strength not a number", ["-F", "image=@{folder}/source.png", "-F", "strength=lots"], "strength"),
    ("seed not a number", ["-F", "image=@{folder}/source.png", "-F", "strength=0.5", "-F", "seed=x"], "seed"),
])
def test_bad_multipart_edits_are_400s_naming_the_field(demo_server, source, name, form, param):
    folder, _ = source
    (folder / "junk.bin").write_bytes(b"\x00junk" * 10)
    status, body = answer(*[arg.format(folder=folder) for arg in form], "-F", "model=demo-shapes", "-F", "class=red circle",
                          f"{demo_server.base}/v1/jobs")
    assert status == 400, (name, body)
    assert json.loads(body)["error"]["param"] == param, (name, body)


def test_a_model_without_encoder_cannot_edit_in_a_job(server):
    status, _, body = server.post("/v1/jobs", {"class": "goldfish", "image": base64.b64encode(quadrant_mask(256)).decode()})
    assert status == 400 and json.loads(body)["error"]["param"] == "model", body


def test_uploads_above_the_limit_are_413s(server):
    """The route takes an image and a mask of the upload limit (16 MiB each); one larger is a 413."""
    big = base64.b64encode(b"\x00" * (16 * 1024 * 1024 + 1)).decode()
    status, _, body = server.post("/v1/jobs", {"class": "goldfish", "image": big})
    assert status == 413 and json.loads(body)["error"]["param"] == "image", body[:300]
