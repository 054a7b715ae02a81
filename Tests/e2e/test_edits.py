"""`POST /v1/images/edits` through the official `openai` SDK: inpainting with a mask, streamed edits,
variations by `strength`, and the 400s for unusable uploads. The demo class model carries its
VQGAN encoder; the random test model has none."""
import base64
import struct

import openai
import pytest
from openai import OpenAI

from pictures import png_rgba, png_size, quadrant_mask

@pytest.fixture(scope="module")
def demo(demo_server):
    client = OpenAI(base_url=f"{demo_server.base}/v1", api_key="unused")
    source = client.images.generate(model="demo-shapes", prompt="red circle", extra_body={"seed": 3})
    return client, base64.b64decode(source.data[0].b64_json)


def test_edit_with_mask(demo):
    client, source = demo
    result = client.images.edit(
        model="demo-shapes", image=("source.png", source, "image/png"), mask=("mask.png", quadrant_mask(), "image/png"),
        prompt="blue square", extra_body={"seed": 5})
    assert len(result.data) == 1
    edited = base64.b64decode(result.data[0].b64_json)
    assert png_size(edited) == (64, 64)
    assert edited != source
    assert result.size == "64x64" and result.output_format == "png"
    again = client.images.edit(
        model="demo-shapes", image=("source.png", source, "image/png"), mask=("mask.png", quadrant_mask(), "image/png"),
        prompt="blue square", extra_body={"seed": 5})
    assert again.data[0].b64_json == result.data[0].b64_json, "same image, mask, prompt and seed: same result"


def test_streamed_edit_reports_partial_images(demo):
    client, source = demo
    stream = client.images.edit(
        model="demo-shapes", image=("source.png", source, "image/png"), mask=("mask.png", quadrant_mask(), "image/png"),
        prompt="green cross", stream=True, partial_images=2, extra_body={"seed": 7})
    events = list(stream)
    assert [event.type for event in events] == ["image_edit.partial_image", "image_edit.partial_image", "image_edit.completed"]
    assert png_size(base64.b64decode(events[-1].b64_json)) == (64, 64)


def test_variation_by_strength_and_transparent_image(demo):
    client, source = demo
    variation = client.images.edit(
        model="demo-shapes", image=("source.png", source, "image/png"), prompt="red circle",
        extra_body={"seed": 9, "strength": 0.5})
    assert png_size(base64.b64decode(variation.data[0].b64_json)) == (64, 64)
    # Without a mask, the image's own transparent pixels say what to regenerate (as OpenAI's API).
    holey = png_rgba(64, 64, lambda x, y: (200, 200, 200, 0 if x >= 48 else 255))
    filled = client.images.edit(model="demo-shapes", image=("holey.png", holey, "image/png"), prompt="blue circle")
    assert png_size(base64.b64decode(filled.data[0].b64_json)) == (64, 64)


@pytest.mark.parametrize("name, image, mask, extra, param", [
    ("not an image", b"GIF89a...", None, {}, "image"),
    ("truncated png", quadrant_mask()[:60], None, {}, "image"),
    ("nothing to regenerate", png_rgba(64, 64, lambda x, y: (9, 9, 9, 255)), None, {}, "mask"),
    ("mask of another size", png_rgba(64, 64, lambda x, y: (9, 9, 9, 255)), png_rgba(32, 32, lambda x, y: (0, 0, 0, 0)), {}, "mask"),
    ("strength out of range", png_rgba(64, 64, lambda x, y: (9, 9, 9, 255)), None, {"strength": 1.5}, "strength"),
    ("huge declared size", png_rgba(1, 1, lambda x, y: (0, 0, 0, 0)).replace(struct.pack(">II", 1, 1), struct.pack(">II", 100000, 100000), 1), None, {}, "image"),
])
def test_unusable_uploads_are_400s_naming_the_field(demo, name, image, mask, extra, param):
    client, _ = demo
    kwargs = {"mask": ("mask.png", mask, "image/png")} if mask else {}
    with pytest.raises(openai.BadRequestError) as error:
        client.images.edit(model="demo-shapes", image=("image.png", image, "image/png"), prompt="red circle", extra_body=extra, **kwargs)
    assert error.value.status_code == 400, name
    assert error.value.body["param"] == param, (name, error.value.body)


def test_a_model_without_encoder_cannot_edit(server):
    client = OpenAI(base_url=f"{server.base}/v1", api_key="unused")
    with pytest.raises(openai.BadRequestError) as error:
        client.images.edit(model="test-tiny", image=("i.png", quadrant_mask(256), "image/png"), prompt="goldfish")
    assert error.value.body["param"] == "model"
