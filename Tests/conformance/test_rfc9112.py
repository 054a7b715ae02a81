"""RFC 9112 (HTTP/1.1 message syntax) conformance of the server, with raw sockets.

The cases cover the requirements that the public strict HTTP/1.1 suites check (request line,
headers, body framing, connection management, response semantics, hardening), each against its
RFC section. Like those suites, single-exchange cases send the request and then half-close the
connection (`shutdown(SHUT_WR)`), which a server must not take for a disconnect.
"""
import socket

import pytest

from http1 import Reader, connect, exchange, statuses

GET = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
GET_CLOSE = b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"


def first_status(address, data):
    found = statuses(exchange(address, data))
    return found[0] if found else None


def served(address):
    """A follow-up plain GET (half-closed, as above) gets a valid answer."""
    status = first_status(address, GET)
    return status is not None and 100 <= status <= 599


# name, request, acceptable first statuses. Valid requests must not be refused as malformed (400).
ACCEPTED = [
    ("3 simple GET", GET),
    ("3 POST with Content-Length body", b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello"),
    ("3.2.4 OPTIONS * (asterisk-form)", b"OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n"),
    ("3.2.2 absolute-form target", b"GET http://localhost/ HTTP/1.1\r\nHost: localhost\r\n\r\n"),
    ("7.1 valid chunked body", b"POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
    ("2.2 leading empty line ignored", b"\r\nGET / HTTP/1.1\r\nHost: localhost\r\n\r\n"),
    ("3.2 Host with port", b"GET / HTTP/1.1\r\nHost: localhost:8080\r\n\r\n"),
    ("3.2 Host as IPv6 literal", b"GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"),
]


@pytest.mark.parametrize("name,request_bytes", ACCEPTED, ids=[case[0] for case in ACCEPTED])
def test_valid_request_is_served(address, name, request_bytes):
    status = first_status(address, request_bytes)
    assert status is not None, "no response (a half-closed client must still be answered)"
    assert 200 <= status <= 599 and status != 400, status


# name, request, the statuses RFC 9112/9110 allow.
REFUSED = [
    ("3.1 CONNECT is not served: 501, not 400", b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", {405, 501}),
    ("2.6 HTTP/2.0 version", b"GET / HTTP/2.0\r\nHost: localhost\r\n\r\n", {505}),
    ("3 request line without version", b"GET /\r\nHost: localhost\r\n\r\n", {400}),
    ("3 request line with double space", b"GET  / HTTP/1.1\r\nHost: localhost\r\n\r\n", {400}),
    ("2.2 bare LF", b"GET / HTTP/1.1\nHost: localhost\n\n", {400}),
    ("3.2 missing Host", b"GET / HTTP/1.1\r\n\r\n", {400}),
    ("3.2 duplicate Host", b"GET / HTTP/1.1\r\nHost: localhost\r\nHost: example.com\r\n\r\n", {400}),
    ("3.2 invalid Host value", b"GET / HTTP/1.1\r\nHost: bad host\r\n\r\n", {400}),
    ("3.2 Host with a path", b"GET / HTTP/1.1\r\nHost: localhost/x\r\n\r\n", {400}),
    ("5.1 header name with space", b"GET / HTTP/1.1\r\nHost: localhost\r\nBad Header: value\r\n\r\n", {400}),
    ("5.2 obsolete line folding", b"GET / HTTP/1.1\r\nHost: localhost\r\n  continued\r\n\r\n", {400}),
    ("5.1 whitespace before colon", b"GET / HTTP/1.1\r\nHost : localhost\r\n\r\n", {400}),
    ("5.5 NUL in a field value", b"GET / HTTP/1.1\r\nHost: local\x00host\r\n\r\n", {400}),
    ("6.1 chunked in HTTP/1.0", b"POST / HTTP/1.0\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", {400}),
    ("6.1 chunked with Content-Length", b"POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n", {400}),
    ("6.1 unknown transfer coding", b"POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: nonsense\r\n\r\nhello", {400, 501}),
    ("6.3 conflicting Content-Length", b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello!!", {400}),
    ("6.3 invalid Content-Length", b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: xyz\r\n\r\nhello", {400}),
]


@pytest.mark.parametrize("name,request_bytes,allowed", REFUSED, ids=[case[0] for case in REFUSED])
def test_invalid_request_is_refused(address, name, request_bytes, allowed):
    status = first_status(address, request_bytes)
    assert status in allowed, f"got {status}, RFC wants one of {sorted(allowed)}"


def test_6_3_chunked_not_final_is_400_then_close(address):
    raw = exchange(address, b"POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"
                   b"5\r\nhello\r\n0\r\n\r\n" + GET_CLOSE, half_close=False)
    assert statuses(raw) == [400], "400, and the connection closed before the next request"


def test_6_1_chunked_with_content_length_closes(address):
    raw = exchange(address, b"POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
                   b"5\r\nhello\r\n0\r\n\r\n" + GET_CLOSE, half_close=False)
    assert statuses(raw) == [400], "no request smuggled behind the refused one"


@pytest.mark.parametrize("body", [b"Z\r\nhello\r\n0\r\n\r\n", b"5\r\nhello0\r\n\r\n"], ids=["bad chunk size", "missing chunk CRLF"])
def test_7_1_malformed_chunks_are_400(address, body):
    raw = exchange(address, b"POST / HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n" + body + GET_CLOSE,
                   half_close=False)
    assert statuses(raw) == [400]


def test_9_3_keep_alive_by_default(address):
    with connect(address) as sock:
        reader = Reader(sock)
        for _ in range(2):
            sock.sendall(GET)
            assert reader.response().status == 200


@pytest.mark.parametrize("request_bytes", [GET_CLOSE, b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n"], ids=["Connection: close", "HTTP/1.0"])
def test_9_6_server_closes_after_the_response(address, request_bytes):
    with connect(address) as sock:
        sock.sendall(request_bytes)
        reader = Reader(sock)
        response = reader.response()
        assert response.status == 200
        assert reader.closed()


def test_9_3_half_closed_pipeline_is_answered_in_order(address):
    raw = exchange(address, b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\nGET /readyz HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert len(statuses(raw)) == 2


def test_expect_100_continue(address):
    with connect(address) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        reader = Reader(sock)
        interim = reader.response(skip_interim=False)
        assert interim.status == 100 or 400 <= interim.status < 500
        if interim.status == 100:
            sock.sendall(b"hello")
            assert reader.response().status not in (100, 400)


def test_rfc9110_9_3_2_head_response_has_no_body(address):
    raw = exchange(address, b"HEAD / HTTP/1.1\r\nHost: localhost\r\n\r\n")
    head, _, body = raw.partition(b"\r\n\r\n")
    assert statuses(head) == [200]
    assert body == b""


def test_rfc9110_error_response_is_self_delimiting(address):
    raw = exchange(address, b"GET / HTTP/1.1\r\nHost: localhost\r\nX: \x01\r\n\r\n")
    head = raw.partition(b"\r\n\r\n")[0].lower()
    assert statuses(raw) == [400]
    assert b"content-length:" in head or b"transfer-encoding: chunked" in head or b"connection: close" in head


# Hardening: oversized input is answered or refused, and the server keeps serving.
HARDENING = [
    ("oversized request line", b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: localhost\r\n\r\n", 414),
    ("header flood", b"GET / HTTP/1.1\r\nHost: localhost\r\n" + b"".join(b"X-H-%d: value\r\n" % i for i in range(101)) + b"\r\n", 431),
    ("oversized header", b"GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"x" * 20000 + b"\r\n\r\n", 431),
]


@pytest.mark.parametrize("name,request_bytes,expected", HARDENING, ids=[case[0] for case in HARDENING])
def test_oversized_input_is_refused_and_the_server_keeps_serving(address, name, request_bytes, expected):
    assert first_status(address, request_bytes) == expected
    assert served(address)
