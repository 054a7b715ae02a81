import Foundation
import Glibc
import TestSupport
import XCTest

@testable import HTTPServer

/// A response as read off the wire by `TestClient`.
struct TestResponse {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]
    /// For chunked bodies: whether the terminating zero chunk arrived.
    var sawLastChunk = false
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// A blocking raw-socket HTTP client for tests: it writes exactly the bytes it is given and
/// parses responses strictly, so it can check framing the server produces. Every read has a
/// deadline; nothing waits forever.
final class TestClient {
    private let socket: LoopbackSocket
    private var buffer: [UInt8] = []
    private(set) var sawEOF = false

    var fd: Int32 { socket.fd }

    /// Connects to 127.0.0.1:`port`. `receiveBuffer` shrinks SO_RCVBUF (set before connecting so the window stays small).
    /// `source` binds the client's end to another loopback address (all of 127/8 is loopback), so
    /// tests can play several client addresses.
    init(port: Int, receiveBuffer: Int? = nil, source: String? = nil) throws {
        socket = try LoopbackSocket(port: port, receiveBuffer: receiveBuffer, source: source)
    }

    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// Writes everything (blocking); false if the connection failed.
    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool { socket.send(bytes) }

    /// Blocking write of everything to `fd`; usable from another thread (it touches no client state).
    @discardableResult
    static func send(_ bytes: [UInt8], to fd: Int32) -> Bool { LoopbackSocket.send(bytes, to: fd) }

    /// Reads more into the buffer; false on EOF, error or when `deadline` passes.
    private func fill(until deadline: Date) -> Bool {
        if sawEOF { return false }
        guard let chunk = socket.receive(until: deadline) else { return false }
        if chunk.isEmpty {
            sawEOF = true
            return false
        }
        buffer += chunk
        return true
    }

    private func take(_ count: Int) -> [UInt8] {
        let bytes = Array(buffer[0..<count])
        buffer.removeFirst(count)
        return bytes
    }

    private func readLine(until deadline: Date) -> String? {
        while true {
            if let index = buffer.firstIndex(of: 10), index > 0, buffer[index - 1] == 13 {
                let line = take(index + 1)
                return String(decoding: line.dropLast(2), as: UTF8.self)
            }
            guard fill(until: deadline) else { return nil }
        }
    }

    private func readExactly(_ count: Int, until deadline: Date) -> [UInt8]? {
        while buffer.count < count {
            guard fill(until: deadline) else { return nil }
        }
        return take(count)
    }

    /// Reads one response (interim 1xx responses are returned as such). nil if it did not
    /// arrive complete within `timeout`.
    func readResponse(timeout: Double = 5, isHeadRequest: Bool = false) -> TestResponse? {
        let deadline = Date().addingTimeInterval(timeout)
        guard let statusLine = readLine(until: deadline) else { return nil }
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0] == "HTTP/1.1", let status = Int(parts[1]) else {
            XCTFail("bad status line \(statusLine)")
            return nil
        }
        var headers = HTTPHeaders()
        while true {
            guard let line = readLine(until: deadline) else { return nil }
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else {
                XCTFail("bad header line \(line)")
                return nil
            }
            headers.add(name: String(line[..<colon]), value: line[line.index(after: colon)...].trimmingHTTPWhitespace())
        }
        var response = TestResponse(status: status, headers: headers, body: [])
        if (100..<200).contains(status) || status == 204 || status == 304 || isHeadRequest { return response }
        if headers["transfer-encoding"] == "chunked" {
            while true {
                guard let sizeLine = readLine(until: deadline), let size = Int(sizeLine, radix: 16) else { return response }
                if size == 0 {
                    while let trailer = readLine(until: deadline), !trailer.isEmpty {}
                    response.sawLastChunk = true
                    return response
                }
                guard let data = readExactly(size, until: deadline), readExactly(2, until: deadline) == [13, 10] else {
                    return response
                }
                response.body += data
            }
        } else if let length = headers["content-length"].flatMap({ Int($0) }) {
            guard let data = readExactly(length, until: deadline) else { return nil }
            response.body = data
        } else {
            response.body = readUntilEOF(timeout: timeout)
        }
        return response
    }

    /// Reads one chunk of a chunked body (after its head was read with `readHead`).
    func readChunk(timeout: Double = 5) -> [UInt8]? {
        let deadline = Date().addingTimeInterval(timeout)
        guard let sizeLine = readLine(until: deadline), let size = Int(sizeLine, radix: 16) else { return nil }
        if size == 0 {
            _ = readLine(until: deadline)
            return []
        }
        guard let data = readExactly(size, until: deadline), readExactly(2, until: deadline) == [13, 10] else { return nil }
        return data
    }

    /// Reads just a response head, leaving the body to `readChunk`.
    func readHead(timeout: Double = 5) -> TestResponse? {
        readResponse(timeout: timeout, isHeadRequest: true)
    }

    /// Everything until the server closes (or `timeout`).
    func readUntilEOF(timeout: Double = 5) -> [UInt8] {
        let deadline = Date().addingTimeInterval(timeout)
        while fill(until: deadline) {}
        return take(buffer.count)
    }

    /// True if the server closes within `timeout` without sending anything more.
    func closesSilently(within timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while fill(until: deadline) {}
        return sawEOF && buffer.isEmpty
    }

    /// True if nothing arrives and the connection stays open for `duration`.
    func staysQuiet(for duration: Double) -> Bool {
        !fill(until: Date().addingTimeInterval(duration)) && !sawEOF && buffer.isEmpty
    }

    /// Half-closes: sends FIN after what was sent, and can still read the answer.
    func finishSending() {
        shutdown(fd, Int32(SHUT_WR))
    }

    /// Closes with a TCP reset instead of a FIN.
    func reset() {
        var option = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
        shutdown(fd, Int32(SHUT_RDWR))
    }
}
