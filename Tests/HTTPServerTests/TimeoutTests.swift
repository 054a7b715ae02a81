import Foundation
import XCTest

@testable import HTTPServer

/// The timeout rules are tested on the state machine with a hand-moved clock
/// (`ConnectionStateMachineTests`); this checks that the socket driver's timer carries them out.
final class TimeoutTests: XCTestCase {
    func testDriverTimerAnswersASlowHeadWith408ThenCloses() throws {
        let (server, port) = try startServer {
            $0.timeouts.head = 0.1; $0.timeouts.linger = 0.1
        }
        let client = try TestClient(port: port)
        client.send("GET / HTTP/1.1\r\nHost: t\r\n")
        let response = client.readResponse(timeout: 3)
        XCTAssertEqual(response?.status, 408)
        XCTAssertEqual(response?.headers["connection"], "close")
        XCTAssertTrue(response?.text.contains("request_head_timeout") ?? false)
        XCTAssertTrue(client.closesSilently(within: 2))
        XCTAssertTrue(eventually { server.connectionCount == 0 })
        assertServesNormally(port: port)
    }
}
