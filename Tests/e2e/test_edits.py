"""`POST /v1/images/edits` through the official `openai` SDK: inpainting with a mask, streamed edits,
variations by `strength`, and the 400s for unusable uploads. The demo class model carries its
VQGAN encoder; the random test model has none."""
import base64
import struct
import urllib.request

import openai
import pytest
from openai import OpenAI

from pictures import image_format_and_size, png_rgba, png_size, quadrant_mask

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


def test_edit_takes_openais_output_parameters(demo):
    client, source = demo
    raw = client.images.with_raw_response.edit(
        model="demo-shapes", image=("source.png", source, "image/png"), mask=("mask.png", quadrant_mask(), "image/png"),
        prompt="blue square", size="256x256", quality="low", output_format="jpeg", output_compression=75, background="opaque",
        user="user-3", n=2, extra_body={"seed": 5, "moderation": "low"})
    result = raw.parse()
    assert raw.headers["x-image-size"] == "256x256" and raw.headers["x-model-image-size"] == "64x64"
    assert result.size == "256x256" and result.output_format == "jpeg" and result.quality == "low"
    assert result.background == "opaque" and result.safety_identifier == "user-3"
    assert len(result.data) == 2
    for image in result.data:
        assert image_format_and_size(base64.b64decode(image.b64_json)) == ("jpeg", 256, 256)
    usage = result.usage
    assert usage.input_tokens_details.image_tokens == 64, "the source image's 8 x 8 tokens are input"
    assert usage.input_tokens == usage.input_tokens_details.text_tokens + 64
    assert usage.output_tokens == 2 * 64


def test_streamed_edit_in_the_asked_format_and_size(demo):
    client, source = demo
    events = list(client.images.edit(
        model="demo-shapes", image=("source.png", source, "image/png"), mask=("mask.png", quadrant_mask(), "image/png"),
        prompt="green cross", stream=True, partial_images=1, size="128x128", output_format="webp", extra_body={"seed": 7}))
    assert [event.type for event in events] == ["image_edit.partial_image", "image_edit.completed"]
    for event in events:
        assert event.output_format == "webp" and event.size == "128x128"
        assert image_format_and_size(base64.b64decode(event.b64_json)) == ("webp", 128, 128)


def test_edit_url_answer(demo):
    client, source = demo
    result = client.images.edit(
        model="demo-shapes", image=("source.png", source, "image/png"), prompt="red circle", response_format="url",
        output_format="jpeg", size="512x512", extra_body={"strength": 0.5, "seed": 2})
    with urllib.request.urlopen(result.data[0].url, timeout=60) as response:
        assert response.headers["Content-Type"] == "image/jpeg"
        assert image_format_and_size(response.read()) == ("jpeg", 512, 512)


@pytest.mark.parametrize("kwargs, param", [
    ({"size": "1536x1024"}, "size"), ({"background": "transparent"}, "background"), ({"n": 11}, "n"),
    ({"quality": "ultra"}, "quality"), ({"output_format": "gif"}, "output_format"), ({"output_compression": 101}, "output_compression"),
    ({"extra_body": {"moderation": "none"}}, "moderation"),
])
def test_edit_parameters_outside_the_contract_are_400s(demo, kwargs, param):
    client, source = demo
    with pytest.raises(openai.BadRequestError) as error:
        client.images.edit(
            model="demo-shapes", image=("source.png", source, "image/png"), mask=("mask.png", quadrant_mask(), "image/png"),
            prompt="blue square", **kwargs)
    assert error.value.body["param"] == param, error.value.body
