import Foundation
import LockedValue
import XCTest

@testable import HTTPServer

/// Every limit and malformed case, against a live server: the stated status, JSON error body,
/// `Connection: close`, the connection closed, and the server still serving afterwards.
final class LiveMalformedRequestTests: XCTestCase {
    func testEveryMalformedRequestGetsItsStatusThenClose() throws {
        let reported = Locked<[(HTTPRequestError, String)]>([])
        let (_, port) = try startServer(onRejection: { error, remote in reported.withLock { $0.append((error, remote)) } })
        for testCase in HTTPRequestParserTests.malformed {
            reported.withLock { $0.removeAll() }
            let client = try TestClient(port: port)
            client.send(testCase.input)
            guard let response = client.readResponse() else {
                XCTFail("\(testCase.name): no response")
                continue
            }
            XCTAssertEqual(response.status, testCase.status, testCase.name)
            XCTAssertEqual(response.headers["connection"], "close", testCase.name)
            XCTAssertEqual(response.headers["content-type"], "application/json", testCase.name)
            XCTAssertTrue(response.text.contains(#""code":"\#(testCase.error.code)""#), "\(testCase.name): \(response.text)")
            XCTAssertTrue(response.text.contains(#""type":"invalid_request_error","param":null"#), testCase.name)
            XCTAssertTrue(client.closesSilently(within: 2), "\(testCase.name): connection not closed")
            // The observer (metrics and logs of the embedding app) heard of it, with the peer.
            let seen = reported.withLock { $0 }
            XCTAssertEqual(seen.map(\.0), [testCase.error], testCase.name)
            XCTAssertTrue(seen.first?.1.hasPrefix("127.0.0.1") ?? false, "\(testCase.name): \(seen)")
            assertServesNormally(port: port)
        }
    }

    func testMalformedRequestAfterAGoodOneOnTheSameConnection() throws {
        let (_, port) = try startServer()
        let client = try TestClient(port: port)
        client.send("GET /a HTTP/1.1\r\nHost: t\r\n\r\nGET /b HTTP/1.1\r\nHost : t\r\n\r\n")
        XCTAssertEqual(client.readResponse()?.status, 200)
        XCTAssertEqual(client.readResponse()?.status, 400)
        XCTAssertTrue(client.closesSilently(within: 2))
    }

    /// The client keeps sending a body we refused: lingering close must still let it read the 413.
    func testBodyTooLargeWhileTheClientKeepsSending() throws {
        let (_, port) = try startServer { $0.limits.maxBodyBytes = 1000 }
        let client = try TestClient(port: port)
        client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4000000\r\n\r\n")
        let fd = client.fd
        let senderDone = DispatchSemaphore(value: 0)
        let sender = Thread {
            TestClient.send([UInt8](repeating: 120, count: 4_000_000), to: fd)
            senderDone.signal()
        }
        sender.start()
        let response = client.readResponse()
        XCTAssertEqual(response?.status, 413)
        XCTAssertEqual(response?.headers["connection"], "close")
        assertServesNormally(port: port)
        // The writer stops once the server closes after lingering; wait so the fd outlives it.
        XCTAssertEqual(senderDone.wait(timeout: .now() + 5), .success)
    }

    func testRandomGarbageAndResetsDoNotHurtTheServer() throws {
        let (server, port) = try startServer()
        var generator = SplitMix64(seed: 7)
        for round in 0..<30 {
            let client = try TestClient(port: port)
            let garbage = (0..<Int.random(in: 1...2000, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            client.send((round % 2 == 0 ? Array("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n".utf8) : []) + garbage)
            if round % 3 == 0 { client.reset() }
        }
        // A reset in the middle of a response being written.
        let streaming = try TestClient(port: port)
        streaming.send("GET /sleep?ms=50 HTTP/1.1\r\nHost: t\r\n\r\n")
        streaming.reset()
        assertServesNormally(port: port)
        XCTAssertTrue(eventually { server.connectionCount == 0 }, "connections leaked: \(server.connectionCount)")
    }
}
