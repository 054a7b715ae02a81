"""`enat serve` as an operator meets it: --help, configuration errors, precedence."""
import json
import os
import socket
import subprocess
import time

from conftest import BINARY, REPO, Server
from pictures import mean_difference, png_rgba, red_circle_bottom_left, text_chunk

FLAGS = ["--config", "--host", "--port", "--model", "--max-batch-size", "--max-queue-length", "--max-queue-wait-seconds",
         "--request-timeout-seconds", "--blas-threads", "--max-body-bytes", "--max-upload-bytes", "--max-connections",
         "--shutdown-grace-seconds", "--job-retention-seconds", "--max-retained-jobs", "--max-retained-bytes",
         "--log-level", "--log-format", "--api-key", "--api-key-file", "--protect-metrics", "--cors-origin",
         "--trusted-proxy", "--precision"]


def test_help_lists_every_setting():
    text = subprocess.run([BINARY, "serve", "--help"], capture_output=True, text=True, check=True).stdout
    for flag in FLAGS:
        assert flag in text, flag
    for variable in ["ENAT_CONFIG", "ENAT_MODELS", "ENAT_MAX_QUEUE_WAIT_SECONDS", "ENAT_LOG_LEVEL", "ENAT_API_KEYS",
                     "ENAT_CORS_ORIGINS", "ENAT_LOG_FORMAT"]:
        assert variable in text, variable


def test_missing_models_are_reported_clearly(workdir):
    result = subprocess.run([BINARY, "serve", "--port", "0"], cwd=workdir, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "--model" in result.stderr and "Models/demo-shapes" in result.stderr and "random:tiny" in result.stderr
    result = subprocess.run([BINARY, "serve", "--port", "0", "--model", "no/such/bundle"], cwd=workdir,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "'no/such/bundle' does not exist" in result.stderr


def test_flag_beats_environment_beats_file(workdir, monkeypatch):
    config = f"{workdir}/serve.json"
    with open(config, "w") as file:
        json.dump({"max_queue_length": 3, "max_body_bytes": 4096, "log_level": "debug"}, file)
    monkeypatch.setenv("ENAT_CONFIG", config)
    monkeypatch.setenv("ENAT_MAX_QUEUE_LENGTH", "5")
    monkeypatch.setenv("ENAT_MAX_BODY_BYTES", "8192")
    server = Server("--max-body-bytes", "2048")
    try:
        logged = next(entry for entry in server.logs if entry.get("msg") == "configuration")
        assert logged["file"] == config
        assert logged["max_queue_length"] == 5  # environment over file
        # (The upload routes, /v1/jobs and /v1/images/edits, have max_upload_bytes room on top.)
        status, _, body = server.post("/v1/images/generations", {"prompt": "x" * 3000})
        assert status == 413  # flag (2048) over environment (8192) and file (4096)
        assert json.loads(body)["error"]["type"] == "invalid_request_error"
    finally:
        assert server.stop() == 0


def test_a_port_in_use_fails_before_the_models_load(workdir):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        start = time.time()
        # random:tiny loads in a moment; a real path that does not exist proves loading never began.
        result = subprocess.run([BINARY, "serve", "--port", str(port), "--model", "no/such/bundle"], cwd=workdir,
                                capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert f"port {port} is already in use" in result.stderr, result.stderr
    assert "does not exist" not in result.stderr and "Usage" not in result.stderr
    assert time.time() - start < 30


def test_config_file_errors_name_the_file_and_key(workdir):
    config = f"{workdir}/serve.json"
    with open(config, "w") as file:
        json.dump({"max_batch": 2}, file)
    result = subprocess.run([BINARY, "serve", "--config", config], cwd=workdir, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert f"configuration file {config}: unknown key 'max_batch'; did you mean 'max_batch_size'?" in result.stderr, result.stderr
    assert "request" not in result.stderr.lower() and "Usage" not in result.stderr


def test_outside_the_checkout_the_message_says_where_the_demo_bundles_are(workdir):
    result = subprocess.run([BINARY, "serve", "--port", "0"], cwd=workdir, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert f"{workdir}/Models/demo-shapes" in result.stderr, result.stderr
    if BINARY.startswith(REPO):
        assert f"--model {REPO}/Models/demo-shapes --model {REPO}/Models/demo-captions" in result.stderr, result.stderr


def test_generate_checks_the_output_path_first_and_writes_the_parameters(workdir):
    result = subprocess.run([BINARY, "generate", "--model", "Models/demo-shapes", "--class", "red circle", "-o", "/no/such/folder/x.png"],
                            cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert result.stderr.strip() == "Error: cannot write -o /no/such/folder/x.png: the folder /no/such/folder does not exist"
    typo = subprocess.run([BINARY, "generate", "--model", "Models/demo-shapes", "--class", "red circel", "-o", f"{workdir}/x.png"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert typo.returncode != 0 and "did you mean 'red circle'?" in typo.stderr, typo.stderr
    out = f"{workdir}/random.png"
    made = subprocess.run([BINARY, "generate", "--model", "Models/demo-shapes", "--class", "blue square", "--seed", "-1", "-o", out],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stderr
    seed = int(made.stderr.strip().rsplit("seed ", 1)[1])
    assert seed < 2**53
    with open(out, "rb") as file:
        parameters = text_chunk(file.read(), "parameters")
    assert parameters.startswith("blue square\n") and f"Seed: {seed}," in parameters and "Model: demo-shapes" in parameters


def test_generate_writes_the_format_of_the_extension(workdir):
    base = [BINARY, "generate", "--model", "Models/demo-shapes", "--class", "red circle", "--steps", "2"]
    refused = subprocess.run(base + ["-o", f"{workdir}/x.gif"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "cannot tell the image format from -o" in refused.stderr, refused.stderr
    lossless = subprocess.run(base + ["-o", f"{workdir}/x.png", "--compression", "50"], cwd=REPO, capture_output=True,
                              text=True, timeout=60)
    assert lossless.returncode != 0 and "PNG output is lossless" in lossless.stderr, lossless.stderr
    for name, extra, magic in [("x.jpg", ["--compression", "80"], b"\xff\xd8\xff"), ("x.webp", [], b"RIFF"),
                               ("x.out", ["--format", "jpeg", "--frames", f"{workdir}/frames"], b"\xff\xd8\xff")]:
        made = subprocess.run(base + ["-o", f"{workdir}/{name}"] + extra, cwd=REPO, capture_output=True, text=True, timeout=300)
        assert made.returncode == 0, made.stderr
        with open(f"{workdir}/{name}", "rb") as file:
            data = file.read()
        assert data.startswith(magic), name
        if magic == b"RIFF":
            assert data[8:12] == b"WEBP"
        else:
            comment = data.index(b"\xff\xfe")  # COM marker, 2 length bytes, the parameters text
            assert data[comment + 4:].startswith(b"red circle\nSteps: 2,"), "the JPEG comment carries the parameters"
    assert sorted(os.listdir(f"{workdir}/frames")) == ["step-00.jpg", "step-01.jpg"]


def test_generate_edits_an_image_with_a_mask(workdir):
    """`enat generate --image --mask`: the mask's transparent quadrant (the source's red circle)
    is redrawn as the class asked for, the far quadrant keeps the source's pixels (within the
    VQGAN's round trip)."""
    base = [BINARY, "generate", "--model", "Models/demo-shapes", "--seed", "4"]
    source, mask, edited = f"{workdir}/source.png", f"{workdir}/mask.png", f"{workdir}/edited.png"
    with open(source, "wb") as file:
        file.write(red_circle_bottom_left())
    with open(mask, "wb") as file:
        file.write(png_rgba(64, 64, lambda x, y: (0, 0, 0, 0 if x < 32 and y >= 32 else 255)))
    made = subprocess.run(base + ["--class", "blue square", "--image", source, "--mask", mask, "-o", edited], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stderr
    with open(source, "rb") as before, open(edited, "rb") as after:
        before, after = before.read(), after.read()
    assert mean_difference(before, after, (40, 0, 64, 24)) < 8, "the quadrant far from the mask keeps the source's pixels"
    assert mean_difference(before, after, (0, 32, 32, 64)) > 10, "the red circle under the mask was redrawn"
    for extra, message in [(["--mask", mask], "--mask and --strength need --image"),
                           (["--image", source, "--strength", "1.5"], "--strength must be in (0, 1]"),
                           (["--image", source], "say what to regenerate"),
                           (["--image", f"{workdir}/none.png", "--strength", "0.5"], "cannot read --image"),
                           (["--image", mask, "--mask", edited], "the mask needs an alpha channel")]:
        refused = subprocess.run(base + ["--class", "blue square", "-o", edited] + extra, cwd=REPO, capture_output=True,
                                 text=True, timeout=120)
        assert refused.returncode != 0 and message in refused.stderr, (extra, refused.stderr)


def test_debug_logs_follow_a_job_and_4xx_lines_carry_the_error(start_server):
    server = start_server("--log-level", "debug")
    server.get("/v1/jobs/new?class=goldfish&steps=2&seed=1")
    server.get("/v1/jobs/new?class=goldfisch&steps=2")
    # A request's log line follows its answer, so a busy machine may write it a moment later.
    def refused():
        return [entry for entry in server.log_lines("request") if entry["status"] == 400]
    deadline = time.time() + 10
    while time.time() < deadline and not (server.log_lines("job completed") and refused()):
        time.sleep(0.05)
    assert [entry["step"] for entry in server.log_lines("job step")][:2] == [1, 2]
    assert server.log_lines("job started") and server.log_lines("job completed")
    refused = refused()
    assert refused and refused[0]["error_code"] == "unknown_class" and "goldfisch" in refused[0]["error"]
    probes = [entry for entry in server.log_lines("request") if entry["path"] == "/readyz"]
    assert probes and all(entry["level"] == "debug" for entry in probes)
    assert server.metrics()['enat_submit_rejections_total{reason="invalid"}'] == 1
