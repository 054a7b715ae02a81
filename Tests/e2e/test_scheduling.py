"""Continuous batching, cancellation on disconnect, a full queue and a graceful SIGTERM, seen
from outside: /metrics, job status and the raw byte stream."""
import json
import signal
import socket
import threading
import time

import httptools


def wait_for(condition, timeout=60, interval=0.02):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def create(server, **body):
    status, _, answer = server.post("/v1/jobs", body)
    assert status == 202, answer
    return json.loads(answer)["id"]


def test_two_clients_at_different_steps_share_a_batch(server):
    before = server.metrics()["enat_mixed_step_batches_total"]
    first = create(server, class_label=1, steps=40, seed=1)
    wait_for(lambda: server.job(first)["step"] >= 2)
    second = create(server, class_label=2, steps=40, seed=2)
    wait_for(lambda: server.job(second)["status"] == "succeeded" and server.job(first)["status"] == "succeeded", timeout=120)
    metrics = server.metrics()
    assert metrics["enat_mixed_step_batches_total"] > before
    assert metrics['enat_batch_size_bucket{le="2"}'] >= 1


def open_stream(server, target):
    connection = socket.create_connection(("127.0.0.1", server.port), timeout=60)
    connection.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".encode())
    return connection


def read_until(connection, marker, data=b""):
    while marker not in data:
        more = connection.recv(65536)
        assert more, "stream ended early"
        data += more
    return data


def test_disconnecting_client_stops_its_job_within_a_step(server):
    cancelled_before = server.metrics()['enat_job_failures_total{reason="cancelled"}']
    connection = open_stream(server, "/v1/jobs/new?class_label=5&steps=64&preview=mosaic")
    head = read_until(connection, b'"step":2,').decode("latin-1")
    job_id = head.split("X-Job-Id: ")[1].split("\r\n")[0]
    step_at_close = server.job(job_id)["step"]
    connection.close()
    status = wait_for(lambda: (lambda s: s if s["status"] != "running" else None)(server.job(job_id)), timeout=10)
    assert status["status"] == "cancelled"
    assert status["step"] <= step_at_close + 2, (step_at_close, status)
    assert server.metrics()['enat_job_failures_total{reason="cancelled"}'] == cancelled_before + 1


def test_full_queue_answers_503_with_retry_after(start_server):
    server = start_server("--max-queue-length", "1", "--max-batch-size", "1")
    running = create(server, class_label=1, steps=64)
    wait_for(lambda: server.job(running)["status"] == "running")
    queued = create(server, class_label=2, steps=2)
    assert server.job(queued)["status"] == "queued"
    status, headers, body = server.post("/v1/images/generations", {"prompt": "goldfish"})
    assert status == 503
    assert int(headers["Retry-After"]) >= 1 and int(headers["retry-after-ms"]) >= 1
    assert json.loads(body)["error"]["code"] == "queue_full"
    status, _, _ = server.get("/v1/jobs/new?class_label=1")
    assert status == 503
    ready, _, reason = server.get("/readyz")
    assert ready == 503 and "reason" in json.loads(reason)
    assert server.metrics()['enat_http_requests_total{route="/v1/images/generations",code="503"}'] == 1


def test_sigterm_during_a_stream_ends_it_cleanly_and_exits_0(start_server):
    server = start_server("--shutdown-grace-seconds", "1")
    connection = open_stream(server, "/v1/jobs/new?class_label=3&steps=64&preview=full")
    data = read_until(connection, b'"step":1,')
    server.process.send_signal(signal.SIGTERM)
    while True:
        more = connection.recv(65536)
        if not more:
            break
        data += more
    connection.close()
    # The whole response parses strictly, the chunked body has its terminating chunk.
    done = threading.Event()

    class Callbacks:
        body = b""

        def on_body(self, chunk):
            Callbacks.body += chunk

        def on_message_complete(self):
            done.set()

    httptools.HttpResponseParser(Callbacks()).feed_data(data)
    assert done.is_set(), "the stream was cut off"
    events = [block for block in Callbacks.body.decode().split("\n\n") if block.startswith("event: ")]
    last = events[-1]
    assert last.startswith("event: completed") or ('"shutting_down"' in last and last.startswith("event: error")), last
    assert server.process.wait(30) == 0
    assert any(entry.get("msg") == "stopped" for entry in server.logs)
