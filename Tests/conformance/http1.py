"""A raw-socket HTTP/1.1 client for conformance checks: it sends exactly the bytes it is given
and reads responses strictly, so it sees what the server really puts on the wire."""
import re
import socket

TIMEOUT = 5
STATUS_LINE = re.compile(rb"HTTP/1\.[01] (\d{3}) ")


def connect(address, source=None):
    sock = socket.create_connection(address, timeout=TIMEOUT, source_address=(source, 0) if source else None)
    return sock


def exchange(address, data, half_close=True):
    """Sends `data`, half-closes (as `nc -q`, some proxies and HTTP/1.0-style clients do, and as
    strict conformance suites do), then reads until the server closes. Returns the raw bytes."""
    with connect(address) as sock:
        try:
            sock.sendall(data)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        return read_until_close(sock)


def read_until_close(sock):
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except OSError:
        pass
    return b"".join(chunks)


def statuses(raw):
    """Status codes of every response head in `raw`, interim ones included."""
    return [int(code) for code in STATUS_LINE.findall(raw)]


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body


class Reader:
    """Reads responses one at a time from a socket that stays open."""

    def __init__(self, sock):
        self.sock = sock
        self.buffer = b""

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("connection closed")
        self.buffer += chunk

    def _line(self):
        while b"\r\n" not in self.buffer:
            self._fill()
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def _exactly(self, count):
        while len(self.buffer) < count:
            self._fill()
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def response(self, head_request=False, skip_interim=True):
        while True:
            status_line = self._line()
            match = STATUS_LINE.match(status_line + b" ")
            assert match, f"bad status line {status_line!r}"
            status = int(match.group(1))
            headers = {}
            while line := self._line():
                name, _, value = line.partition(b":")
                headers[name.strip().lower().decode()] = value.strip().decode()
            if 100 <= status < 200:
                if skip_interim:
                    continue
                return Response(status, headers, b"")
            break
        if head_request or status in (204, 304):
            return Response(status, headers, b"")
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self._line().split(b";")[0], 16)
                if size == 0:
                    while self._line():
                        pass
                    return Response(status, headers, body)
                body += self._exactly(size)
                assert self._exactly(2) == b"\r\n"
        if "content-length" in headers:
            return Response(status, headers, self._exactly(int(headers["content-length"])))
        rest = self.buffer + read_until_close(self.sock)
        self.buffer = b""
        return Response(status, headers, rest)

    def closed(self):
        """True if the server closes without sending anything more."""
        try:
            self._fill()
        except EOFError:
            return self.buffer == b""
        except OSError:
            return True
        return False
