"""Finished jobs are kept within the configured bounds, oldest forgotten first, and the server
forgets expired ones by itself; /metrics shows what it keeps."""
import json
import time


def finished_job(server, seed):
    status, _, body = server.post("/v1/jobs", {"class_label": 1, "steps": 2, "seed": seed})
    assert status == 202, body
    job_id = json.loads(body)["id"]
    status, _, image = server.get(f"/v1/jobs/{job_id}/image")
    assert status == 200 and image.startswith(b"\x89PNG")
    return job_id


def test_count_bound_forgets_the_oldest_finished_jobs(start_server):
    server = start_server("--max-retained-jobs", "2")
    ids = [finished_job(server, seed) for seed in range(1, 5)]
    assert [server.get(f"/v1/jobs/{job_id}")[0] for job_id in ids] == [404, 404, 200, 200]
    metrics = server.metrics()
    assert metrics["enat_retained_jobs"] == 2
    assert metrics["enat_retained_bytes"] > 2 * 2048
    assert metrics['enat_retention_evictions_total{reason="count"}'] == 2


def test_expired_jobs_are_forgotten_without_any_request(start_server):
    server = start_server("--job-retention-seconds", "1")
    finished_job(server, 1)
    assert server.metrics()["enat_retained_jobs"] == 1
    time.sleep(2.5)  # the real server's real clock; the unit tests use a clock they move
    metrics = server.metrics()  # /metrics forgets nothing itself: the inference thread did
    assert metrics["enat_retained_jobs"] == 0
    assert metrics['enat_retention_evictions_total{reason="expired"}'] == 1
