"""A strict HTTP parser (httptools, llhttp) reads our raw responses: heads, Content-Length and
chunked bodies, streams, errors, keep-alive."""
import json
import socket

import httptools


class Collector:
    def __init__(self):
        self.messages = []
        self.current = None

    def on_message_begin(self):
        self.current = {"headers": {}, "body": b"", "complete": False}
        self.messages.append(self.current)

    def on_header(self, name, value):
        self.current["headers"][name.decode().lower()] = value.decode()

    def on_body(self, body):
        self.current["body"] += body

    def on_message_complete(self):
        self.current["complete"] = True


def exchange(server, raw, expected=1):
    """Sends raw request bytes, parses the answers strictly until `expected` complete messages."""
    collector = Collector()
    parser = httptools.HttpResponseParser(collector)
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as connection:
        connection.sendall(raw)
        while sum(m["complete"] for m in collector.messages) < expected:
            data = connection.recv(65536)
            if not data:
                break
            parser.feed_data(data)  # raises HttpParserError on anything malformed
    statuses = []
    for message in collector.messages:
        statuses.append(message)
    assert sum(m["complete"] for m in collector.messages) == expected, collector.messages
    return collector.messages, parser


def request(method, target, body=None, headers=()):
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1"] + list(headers)
    payload = b""
    if body is not None:
        payload = json.dumps(body).encode()
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


def test_pipelined_json_answers_in_order(server):
    raw = request("GET", "/healthz") + request("GET", "/v1/models") + request("GET", "/nope") + request("POST", "/v1/models", body={})
    messages, _ = exchange(server, raw, expected=4)
    assert json.loads(messages[0]["body"]) == {"status": "ok"}
    assert json.loads(messages[1]["body"])["object"] == "list"
    assert json.loads(messages[2]["body"])["error"]["type"] == "not_found_error"
    assert json.loads(messages[3]["body"])["error"]["code"] == "method_not_allowed"
    assert all(int(m["headers"]["content-length"]) == len(m["body"]) for m in messages)


def test_png_answer(server):
    messages, parser = exchange(server, request("GET", "/v1/jobs/new?class_label=3&steps=2", headers=["Connection: close"]))
    assert parser.get_status_code() == 200
    assert messages[0]["headers"]["content-type"] == "image/png"
    assert messages[0]["body"].startswith(b"\x89PNG")


def test_streams_are_well_formed_chunked_bodies(server):
    for stream, content_type in [("sse", "text/event-stream"), ("multipart", "multipart/x-mixed-replace"), ("ndjson", "application/x-ndjson")]:
        messages, parser = exchange(server, request("GET", f"/v1/jobs/new?class_label=1&steps=3&stream={stream}"))
        headers = messages[0]["headers"]
        assert parser.get_status_code() == 200
        assert headers["transfer-encoding"] == "chunked" and headers["content-type"].startswith(content_type)
        assert headers["x-accel-buffering"] == "no"
        assert messages[0]["complete"]


def test_openai_stream_and_error_bodies(server):
    body = {"prompt": "goldfish", "stream": True, "partial_images": 1, "steps": 3}
    messages, _ = exchange(server, request("POST", "/v1/images/generations", body=body))
    text = messages[0]["body"].decode()
    assert "event: image_generation.partial_image" in text and "event: image_generation.completed" in text
    messages, parser = exchange(server, request("POST", "/v1/images/generations", body={"prompt": "goldfish", "n": 0}))
    assert parser.get_status_code() == 400
    assert json.loads(messages[0]["body"])["error"]["param"] == "n"
