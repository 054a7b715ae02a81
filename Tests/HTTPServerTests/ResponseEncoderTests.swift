import XCTest

@testable import HTTPServer

final class ResponseEncoderTests: XCTestCase {
    private func plan(
        status: HTTPStatus = .ok, headers: HTTPHeaders = [:], body: ResponseEncoder.BodyKind,
        method: HTTPMethod = .get, version: HTTPVersion = .http1_1, keepAlive: Bool = true, draining: Bool = false
    ) -> (ResponseEncoder.Plan, String) {
        let plan = ResponseEncoder.plan(
            status: status, headers: headers, body: body,
            request: .init(method: method, version: version, keepAlive: keepAlive, requestID: "rid"),
            draining: draining, serverName: "enat-serve", date: "Sun, 06 Nov 1994 08:49:37 GMT")
        return (plan, String(decoding: plan.head, as: UTF8.self))
    }

    func testBytesResponse() {
        let (plan, head) = plan(headers: ["Content-Type": "text/plain", "content-length": "999", "X-Request-Id": "forged"], body: .bytes(count: 5))
        XCTAssertEqual(plan.framing, .contentLength(5))
        XCTAssertTrue(plan.sendsBody)
        XCTAssertTrue(plan.keepAlive)
        XCTAssertEqual(
            head,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nServer: enat-serve\r\n"
                + "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\nX-Request-Id: rid\r\nContent-Length: 5\r\n\r\n")
    }

    func testStreamIsChunkedFor11AndCloseDelimitedFor10() {
        let (chunked, head) = plan(body: .stream)
        XCTAssertEqual(chunked.framing, .chunked)
        XCTAssertTrue(head.contains("Transfer-Encoding: chunked\r\n"))
        let (old, oldHead) = plan(body: .stream, version: .http1_0, keepAlive: true)
        XCTAssertEqual(old.framing, .closeDelimited)
        XCTAssertFalse(old.keepAlive)
        XCTAssertTrue(oldHead.contains("Connection: close\r\n"))
        XCTAssertFalse(oldHead.contains("Transfer-Encoding"))
    }

    func testHeadRequestsKeepFramingHeadersButSendNoBody() {
        let (bytes, head) = plan(body: .bytes(count: 10), method: .head)
        XCTAssertFalse(bytes.sendsBody)
        XCTAssertTrue(head.contains("Content-Length: 10\r\n"))
        let (stream, _) = plan(body: .stream, method: .head)
        XCTAssertFalse(stream.sendsBody)
        XCTAssertTrue(stream.keepAlive)
    }

    func testBodilessStatuses() {
        for status in [HTTPStatus.noContent, .notModified] {
            let (plan, head) = plan(status: status, body: .bytes(count: 3))
            XCTAssertEqual(plan.framing, .noBody)
            XCTAssertFalse(plan.sendsBody)
            XCTAssertFalse(head.contains("Content-Length"))
        }
    }

    func testConnectionDecisions() {
        XCTAssertTrue(plan(body: .empty, version: .http1_0, keepAlive: true).1.contains("Connection: keep-alive\r\n"))
        XCTAssertFalse(plan(body: .empty, keepAlive: false).0.keepAlive)
        XCTAssertFalse(plan(body: .empty, draining: true).0.keepAlive)
        XCTAssertTrue(plan(body: .empty, draining: true).1.contains("Connection: close\r\n"))
        XCTAssertFalse(plan(headers: ["Connection": "close"], body: .empty).0.keepAlive)
        XCTAssertFalse(plan(body: .empty).1.contains("Connection:"))
    }

    func testUnsafeHandlerHeadersAreDropped() {
        let (_, head) = plan(headers: ["X-Evil": "a\r\nSet-Cookie: x", "Bad Name": "v", "X-Ok": "fine", "Server": "custom"], body: .empty)
        XCTAssertFalse(head.contains("Evil"))
        XCTAssertFalse(head.contains("Bad Name"))
        XCTAssertTrue(head.contains("X-Ok: fine\r\n"))
        XCTAssertTrue(head.contains("Server: custom\r\n"))
        XCTAssertFalse(head.contains("enat-serve"))
    }

    func testChunkFraming() {
        XCTAssertEqual(
            String(decoding: ResponseEncoder.chunk(Array(repeating: 65, count: 26)), as: UTF8.self),
            "1a\r\n" + String(repeating: "A", count: 26) + "\r\n")
        XCTAssertEqual(String(decoding: ResponseEncoder.lastChunk, as: UTF8.self), "0\r\n\r\n")
    }

    func testHTTPDate() {
        XCTAssertEqual(ResponseEncoder.httpDate(784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT")
        XCTAssertEqual(ResponseEncoder.httpDate(0), "Thu, 01 Jan 1970 00:00:00 GMT")
    }
}
