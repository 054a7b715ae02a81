"""`enat serve` as an operator meets it: --help, configuration errors, precedence."""
import json
import subprocess

from conftest import BINARY, Server

FLAGS = ["--config", "--host", "--port", "--model", "--max-batch-size", "--max-queue-length", "--max-queue-wait-seconds",
         "--request-timeout-seconds", "--blas-threads", "--max-body-bytes", "--max-connections",
         "--shutdown-grace-seconds", "--job-retention-seconds", "--max-retained-jobs", "--max-retained-bytes",
         "--log-level"]


def test_help_lists_every_setting():
    text = subprocess.run([BINARY, "serve", "--help"], capture_output=True, text=True, check=True).stdout
    for flag in FLAGS:
        assert flag in text, flag
    for variable in ["ENAT_CONFIG", "ENAT_MODELS", "ENAT_MAX_QUEUE_WAIT_SECONDS", "ENAT_LOG_LEVEL"]:
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
        status, _, body = server.post("/v1/jobs", {"prompt": "x" * 3000})
        assert status == 413  # flag (2048) over environment (8192) and file (4096)
        assert json.loads(body)["error"]["type"] == "invalid_request_error"
    finally:
        assert server.stop() == 0
