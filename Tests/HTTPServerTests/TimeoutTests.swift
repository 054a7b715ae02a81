import Foundation
import XCTest
@testable import HTTPServer

final class TimeoutTests: XCTestCase {
    private func shortTimeouts(_ configuration: inout HTTPServerConfiguration) {
        configuration.timeouts.head = 0.3
        configuration.timeouts.body = 0.3
        configuration.timeouts.idle = 0.3
    }

    func testSlowHeadGets408ThenClose() throws {
        let (_, port) = try startServer(shortTimeouts)
        let client = try TestClient(port: port)
        let started = Date()
        client.send("GET / HTTP/1.1\r\nHost: t\r\n")
        let response = client.readResponse(timeout: 3)
        XCTAssertEqual(response?.status, 408)
        XCTAssertEqual(response?.headers["connection"], "close")
        XCTAssertTrue(response?.text.contains("request_head_timeout") ?? false)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.25)
        XCTAssertTrue(client.closesSilently(within: 2))
        assertServesNormally(port: port)
    }

    func testHeadTimeoutCountsFromTheFirstByteAfterIdle() throws {
        let (_, port) = try startServer { $0.timeouts.head = 0.3; $0.timeouts.idle = 5 }
        let client = try TestClient(port: port)
        client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(client.readResponse()?.status, 200)
        XCTAssertTrue(client.staysQuiet(for: 0.5), "an idle keep-alive connection is governed by the idle timeout")
        client.send("GET / HTT")
        XCTAssertEqual(client.readResponse(timeout: 3)?.status, 408)
    }

    func testSlowBodyGets408ThenClose() throws {
        let (_, port) = try startServer(shortTimeouts)
        let client = try TestClient(port: port)
        client.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
        let response = client.readResponse(timeout: 3)
        XCTAssertEqual(response?.status, 408)
        XCTAssertTrue(response?.text.contains("request_body_timeout") ?? false)
        XCTAssertTrue(client.closesSilently(within: 2))
        assertServesNormally(port: port)
    }

    func testIdleKeepAliveConnectionClosesSilently() throws {
        let (server, port) = try startServer(shortTimeouts)
        let client = try TestClient(port: port)
        client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(client.readResponse()?.status, 200)
        XCTAssertTrue(client.closesSilently(within: 2))
        XCTAssertTrue(eventually { server.connectionCount == 0 })
    }

    func testConnectionThatNeverSendsClosesSilently() throws {
        let (_, port) = try startServer(shortTimeouts)
        let client = try TestClient(port: port)
        XCTAssertTrue(client.closesSilently(within: 2))
        assertServesNormally(port: port)
    }

    func testLongHandlersAreNotCutByReadTimeouts() throws {
        let (_, port) = try startServer(shortTimeouts)
        let client = try TestClient(port: port)
        client.send("GET /sleep?ms=600 HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(client.readResponse(timeout: 3)?.text, "slept 600")
    }
}
