"""Access and seeds as clients meet them: API keys through the OpenAI SDK and curl, job
visibility per key, CORS preflights, /health, seeds a client can round-trip."""
import base64
import json
import subprocess

import openai
import pytest
from openai import OpenAI

from pictures import text_chunk


def test_the_sdk_api_key_opens_a_key_protected_server(start_server):
    server = start_server("--api-key", "sk-one", "--api-key", "sk-two")
    good = OpenAI(base_url=f"{server.base}/v1", api_key="sk-two")
    result = good.images.generate(model="test-tiny", prompt="goldfish", extra_body={"steps": 2, "seed": -1})
    assert result.data[0].b64_json
    bad = OpenAI(base_url=f"{server.base}/v1", api_key="sk-three", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as caught:
        bad.images.generate(model="test-tiny", prompt="goldfish", extra_body={"steps": 2})
    assert caught.value.status_code == 401 and caught.value.code == "invalid_api_key"
    # Probes stay open for load balancers and orchestrators.
    for path in ("/healthz", "/health", "/readyz", "/metrics"):
        assert server.get(path)[0] == 200, path
    # A job is visible only to the key that made it.
    status, _, body = server.post("/v1/jobs", {"class": "goldfish", "steps": 2}, headers={"Authorization": "Bearer sk-one"})
    job_id = json.loads(body)["id"]
    assert len(job_id) == 36
    assert server.get(f"/v1/jobs/{job_id}", headers={"Authorization": "Bearer sk-one"})[0] == 200
    assert server.get(f"/v1/jobs/{job_id}", headers={"Authorization": "Bearer sk-two"})[0] == 404


def test_metrics_can_be_protected_and_keys_come_from_a_file(start_server, workdir):
    path = f"{workdir}/keys"
    with open(path, "w") as file:
        file.write("# the team's key\nsk-file\n")
    server = start_server("--api-key-file", path, "--protect-metrics")
    assert server.get("/metrics")[0] == 401
    assert server.get("/metrics", headers={"Authorization": "Bearer sk-file"})[0] == 200


def test_cors_preflight(start_server):
    server = start_server("--cors-origin", "https://app.example")
    result = subprocess.run(
        ["curl", "-s", "-i", "-X", "OPTIONS", "-H", "Origin: https://app.example", "-H", "Access-Control-Request-Method: POST",
         f"{server.base}/v1/images/generations"], capture_output=True, text=True, check=True)
    head = result.stdout.lower()
    assert head.startswith("http/1.1 204")
    assert "access-control-allow-origin: https://app.example" in head
    assert "access-control-allow-credentials" not in head


def test_seeds_round_trip(server):
    """Random seeds stay below 2^53 and come back on every endpoint, PNG included."""
    status, headers, png = server.get("/v1/jobs/new?class=goldfish&steps=2&seed=-1")
    assert status == 200
    seed = int(headers["X-Seed"])
    assert seed < 2**53
    parameters = text_chunk(png, "parameters")
    assert parameters.startswith("goldfish\n") and f"Seed: {seed}," in parameters and "Steps: 2," in parameters
    # The same seed again gives the same picture.
    _, _, again = server.get(f"/v1/jobs/new?class=goldfish&steps=2&seed={seed}")
    assert again == png
    client = OpenAI(base_url=f"{server.base}/v1", api_key="unused")
    result = client.images.generate(model="test-tiny", prompt="goldfish", n=2, extra_body={"steps": 2})
    seeds = [image.model_extra["seed"] for image in result.data]
    assert seeds[1] == seeds[0] + 1 and seeds[0] < 2**53
    assert result.model_extra["model"] == "test-tiny"
    assert f"Seed: {seeds[1]}," in text_chunk(base64.b64decode(result.data[1].b64_json), "parameters")
    status, _, body = server.post("/v1/jobs", {"class": "goldfish", "steps": 2})
    assert json.loads(body)["seed"] < 2**53
