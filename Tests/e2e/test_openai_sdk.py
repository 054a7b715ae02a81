"""The official `openai` SDK against our Images API (the README's Python examples), and OpenAI's
Images parameters one by one (README: "OpenAI parameters")."""
import base64
import re
import urllib.request

import openai
import pytest
from openai import OpenAI
from pictures import image_format_and_size, text_chunk

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def client(server):
    return OpenAI(base_url=f"{server.base}/v1", api_key="unused")


def test_generate(client):
    result = client.images.generate(
        model="test-tiny", prompt="goldfish", n=2, size="256x256", response_format="b64_json",
        extra_body={"seed": 42, "steps": 4})
    assert len(result.data) == 2
    images = [base64.b64decode(image.b64_json) for image in result.data]
    assert all(image.startswith(PNG) for image in images)
    assert images[0] != images[1]  # seeds 42 and 43
    assert result.size == "256x256" and result.output_format == "png"
    assert result.usage.output_tokens == 2 * 256


def test_generate_is_deterministic_per_seed(client):
    first = client.images.generate(model="test-tiny", prompt="tench", extra_body={"seed": 5, "steps": 3})
    second = client.images.generate(model="test-tiny", prompt="tench", extra_body={"seed": 5, "steps": 3})
    assert first.data[0].b64_json == second.data[0].b64_json


def test_stream_with_partial_images(client):
    stream = client.images.generate(
        model="test-tiny", prompt="goldfish", stream=True, partial_images=2, extra_body={"steps": 8, "preview": "full"})
    events = list(stream)
    assert [event.type for event in events] == [
        "image_generation.partial_image", "image_generation.partial_image", "image_generation.completed"]
    assert [event.partial_image_index for event in events[:2]] == [0, 1]
    for event in events:
        assert base64.b64decode(event.b64_json).startswith(PNG)
        assert event.size == "256x256" and event.output_format == "png" and event.background == "opaque"
        assert event.created_at > 0 and event.quality
    assert events[-1].usage.total_tokens == events[-1].usage.input_tokens + events[-1].usage.output_tokens


def test_stream_without_partial_images(client):
    events = list(client.images.generate(model="test-tiny", prompt="goldfish", stream=True, extra_body={"steps": 2}))
    assert [event.type for event in events] == ["image_generation.completed"]


def test_validation_error_names_the_parameter(client):
    with pytest.raises(openai.BadRequestError) as error:
        client.images.generate(model="test-tiny", prompt="goldfish", extra_body={"steps": 0})
    assert error.value.param == "steps"
    with pytest.raises(openai.BadRequestError) as error:
        client.images.generate(model="dall-e-3", prompt="goldfish")
    assert error.value.param == "model"


def test_models_list(client):
    models = client.models.list()
    model = next(m for m in models.data if m.id == "test-tiny")
    assert model.kind == "class" and model.resolution == 256 and "goldfish" in model.classes


# OpenAI's Images parameters, one by one: each acts as OpenAI's does or is a 400 naming it.

def default_steps(client, model="test-tiny"):
    return next(m for m in client.models.list().data if m.id == model).default_settings["steps"]


def steps_of(png):
    """The step count in the image's `parameters` text chunk (A1111's convention)."""
    return int(re.search(r"Steps: (\d+)", text_chunk(png, "parameters")).group(1))


@pytest.mark.parametrize("size, side", [("256x256", 256), ("auto", 256), ("512x512", 512), ("1024x1024", 1024), ("64x64", 64)])
def test_size_is_served_by_resampling_square_sizes(client, size, side):
    raw = client.images.with_raw_response.generate(model="test-tiny", prompt="goldfish", size=size, extra_body={"steps": 1, "seed": 2})
    result = raw.parse()
    assert image_format_and_size(base64.b64decode(result.data[0].b64_json)) == ("png", side, side)
    assert result.size == f"{side}x{side}"
    # Equal headers: the model's own size, not resampled.
    assert raw.headers["x-image-size"] == f"{side}x{side}" and raw.headers["x-model-image-size"] == "256x256"


@pytest.mark.parametrize("size", ["1536x1024", "1024x1536", "1792x1024", "4096x4096", "big"])
def test_unsupported_sizes_are_400s_listing_what_is(client, size):
    with pytest.raises(openai.BadRequestError) as error:
        client.images.generate(model="test-tiny", prompt="goldfish", size=size)
    assert error.value.param == "size"
    message = error.value.body["message"]
    assert "'auto'" in message and "'256x256'" in message and "16x16 to 2048x2048" in message, message


def test_n_is_1_to_10(client):
    result = client.images.generate(model="test-tiny", prompt="goldfish", n=10, extra_body={"steps": 1})
    assert len(result.data) == 10 and len({image.b64_json for image in result.data}) == 10
    assert result.usage.output_tokens == 10 * 256
    for n in (0, 11):
        with pytest.raises(openai.BadRequestError) as error:
            client.images.generate(model="test-tiny", prompt="goldfish", n=n)
        assert error.value.param == "n"


def test_quality_is_sampler_steps_and_steps_wins(client):
    default = default_steps(client)
    expected = {"low": (default + 1) // 2, "medium": default, "auto": default, "high": 2 * default, "standard": default, "hd": 2 * default}
    reported = {"auto": "medium", "standard": "medium", "hd": "high"}
    for quality, steps in expected.items():
        result = client.images.generate(model="test-tiny", prompt="goldfish", quality=quality, extra_body={"seed": 1})
        assert steps_of(base64.b64decode(result.data[0].b64_json)) == min(steps, 64), quality
        assert result.quality == reported.get(quality, quality)
    explicit = client.images.generate(model="test-tiny", prompt="goldfish", quality="high", extra_body={"steps": 3})
    assert steps_of(base64.b64decode(explicit.data[0].b64_json)) == 3
    with pytest.raises(openai.BadRequestError) as error:
        client.images.generate(model="test-tiny", prompt="goldfish", quality="ultra")
    assert error.value.param == "quality"


@pytest.mark.parametrize("output_format", ["png", "jpeg", "webp"])
def test_output_format_and_compression(client, output_format):
    result = client.images.generate(
        model="test-tiny", prompt="goldfish", output_format=output_format, output_compression=80, size="512x512",
        extra_body={"steps": 2, "seed": 4})
    assert result.output_format == output_format
    assert image_format_and_size(base64.b64decode(result.data[0].b64_json)) == (output_format, 512, 512)


def test_output_compression_is_the_jpeg_and_webp_quality(client):
    def size(output_format, compression):
        result = client.images.generate(
            model="test-tiny", prompt="goldfish", output_format=output_format, output_compression=compression,
            extra_body={"steps": 2, "seed": 4})
        return len(base64.b64decode(result.data[0].b64_json))
    assert size("jpeg", 5) < size("jpeg", 95)
    assert size("webp", 5) < size("webp", 95)
    # As OpenAI documents it: compression applies to jpeg and webp; PNG accepts it and stays lossless.
    png = client.images.generate(model="test-tiny", prompt="goldfish", output_compression=5, extra_body={"steps": 2, "seed": 4})
    plain = client.images.generate(model="test-tiny", prompt="goldfish", extra_body={"steps": 2, "seed": 4})
    assert png.data[0].b64_json == plain.data[0].b64_json
    for output_format, compression, param in [("gif", None, "output_format"), ("jpeg", 101, "output_compression")]:
        with pytest.raises(openai.BadRequestError) as error:
            client.images.generate(model="test-tiny", prompt="goldfish", output_format=output_format, output_compression=compression)
        assert error.value.param == param


def test_background_moderation_style_and_user(client):
    with pytest.raises(openai.BadRequestError) as error:
        client.images.generate(model="test-tiny", prompt="goldfish", background="transparent")
    assert error.value.param == "background" and "alpha" in error.value.body["message"]
    result = client.images.generate(
        model="test-tiny", prompt="goldfish", background="opaque", moderation="low", style="natural", user="user-7",
        extra_body={"steps": 1})
    assert result.background == "opaque" and result.safety_identifier == "user-7"
    auto = client.images.generate(model="test-tiny", prompt="goldfish", background="auto", moderation="auto", extra_body={"steps": 1})
    assert auto.background == "opaque"
    with pytest.raises(openai.BadRequestError) as error:
        client.images.generate(model="test-tiny", prompt="goldfish", moderation="strict")
    assert error.value.param == "moderation"


def test_response_format_url_serves_the_asked_format_and_size(client):
    result = client.images.generate(
        model="test-tiny", prompt="goldfish", response_format="url", output_format="webp", output_compression=60, size="512x512",
        extra_body={"steps": 1})
    url = result.data[0].url
    assert result.data[0].b64_json is None and "/v1/jobs/" in url
    with urllib.request.urlopen(url, timeout=60) as response:
        assert response.headers["Content-Type"] == "image/webp"
        assert image_format_and_size(response.read()) == ("webp", 512, 512)


def test_response_carries_the_references_fields(client):
    result = client.images.generate(model="test-tiny", prompt="goldfish", n=2, extra_body={"steps": 1})
    assert result.created > 0 and result.output_format == "png" and result.size == "256x256"
    assert result.quality == "medium" and result.background == "opaque"
    usage = result.usage
    assert usage.input_tokens == usage.input_tokens_details.text_tokens == 1 and usage.input_tokens_details.image_tokens == 0
    assert usage.output_tokens == usage.output_tokens_details.image_tokens == 2 * 256
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens


def test_streamed_images_are_in_the_asked_format_and_size(client):
    events = list(client.images.generate(
        model="test-tiny", prompt="goldfish", stream=True, partial_images=2, size="512x512", output_format="jpeg",
        output_compression=70, quality="low", extra_body={"preview": "full"}))
    assert [event.type for event in events][-1] == "image_generation.completed"
    assert len(events) == 3
    for event in events:
        assert event.output_format == "jpeg" and event.size == "512x512" and event.quality == "low"
        assert image_format_and_size(base64.b64decode(event.b64_json)) == ("jpeg", 512, 512)


def test_completed_may_follow_fewer_partials_than_asked(client):
    # Two steps: the last one's image is the completed one, so only one partial image fits.
    events = list(client.images.generate(
        model="test-tiny", prompt="goldfish", stream=True, partial_images=3, extra_body={"steps": 2}))
    assert [event.type for event in events] == ["image_generation.partial_image", "image_generation.completed"]
