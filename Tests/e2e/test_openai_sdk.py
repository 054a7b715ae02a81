"""The official `openai` SDK against our Images API (the README's Python examples)."""
import base64

import openai
import pytest
from openai import OpenAI

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
