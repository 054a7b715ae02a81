"""The Python examples of the README, verbatim apart from the server address (the README says
http://localhost:8080, started with `tools/serve --model random:tiny`)."""
import os


def test_readme_generate(server, workdir, monkeypatch):
    monkeypatch.chdir(workdir)
    base_url = f"{server.base}/v1"
    # --- README example: images.generate ---
    import base64
    from openai import OpenAI

    client = OpenAI(base_url=base_url, api_key="unused")
    result = client.images.generate(model="test-tiny", prompt="goldfish", n=2, extra_body={"seed": 42, "steps": 8})
    for i, image in enumerate(result.data):
        with open(f"goldfish-{i}.png", "wb") as file:
            file.write(base64.b64decode(image.b64_json))
    # --- end ---
    assert sorted(os.listdir(workdir)) == ["goldfish-0.png", "goldfish-1.png"]


def test_readme_stream(server, workdir, monkeypatch, capsys):
    monkeypatch.chdir(workdir)
    base_url = f"{server.base}/v1"
    # --- README example: streaming with partial images ---
    import base64
    from openai import OpenAI

    client = OpenAI(base_url=base_url, api_key="unused")
    stream = client.images.generate(model="test-tiny", prompt="goldfish", stream=True, partial_images=2)
    for event in stream:
        if event.type == "image_generation.partial_image":
            print("partial image", event.partial_image_index)
        elif event.type == "image_generation.completed":
            with open("goldfish.png", "wb") as file:
                file.write(base64.b64decode(event.b64_json))
    # --- end ---
    assert capsys.readouterr().out == "partial image 0\npartial image 1\n"
    assert os.path.getsize("goldfish.png") > 0


def test_readme_job_stream(server):
    base = server.base
    # --- README example: a job's progress as NDJSON with the standard library ---
    import json
    import urllib.request

    request = urllib.request.Request(
        f"{base}/v1/jobs?stream=ndjson", method="POST",
        data=json.dumps({"prompt": "goldfish", "seed": 3, "preview": "mosaic"}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        for line in response:
            event = json.loads(line)
            if event["type"] == "progress":
                print(event["state"], event["step"], "/", event["steps"])
            elif event["type"] == "completed":
                print("done, seed", event["seed"])
    # --- end ---
