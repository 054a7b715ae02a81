import Foundation
import XCTest

@testable import HTTPServer

/// No single client address can starve the rest: a per-address limit, deadlines that tighten as
/// the server fills, and idle keep-alive connections giving up their slots first. How a
/// connection's deadline tightens is tested on its state machine (`ConnectionStateMachineTests`).
final class LoadProtectionTests: XCTestCase {
    func testPerAddressLimitAnswers429AndSparesOtherAddresses() throws {
        let (server, port) = try startServer {
            $0.maxConnectionsPerAddress = 2; $0.retryAfterSeconds = 4
        }
        let held = try (0..<2).map { _ in try TestClient(port: port, source: "127.0.0.1") }
        for client in held { client.send("GET / HTTP/1.1\r\n") }  // slow heads
        XCTAssertTrue(eventually { server.connectionCount == 2 })

        let third = try TestClient(port: port, source: "127.0.0.1")
        third.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        let refused = third.readResponse()
        XCTAssertEqual(refused?.status, 429)
        XCTAssertEqual(refused?.headers["retry-after"], "4")
        XCTAssertTrue(refused?.text.contains(#""code":"too_many_connections""#) ?? false)
        XCTAssertTrue(third.closesSilently(within: 2))

        let other = try TestClient(port: port, source: "127.0.0.2")
        other.send("GET /x HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(other.readResponse()?.text, "ok /x", "another address is served")

        held[0].send("Host: t\r\n\r\n")
        XCTAssertEqual(held[0].readResponse()?.status, 200)
    }

    func testIdleKeepAliveConnectionGivesUpItsSlotWhenFull() throws {
        let (server, port) = try startServer {
            $0.maxConnections = 2
            $0.deadlineTightening.startOccupancy = 1  // only eviction is under test here
        }
        let oldest = try TestClient(port: port)
        oldest.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(oldest.readResponse()?.status, 200)
        // The response reaches the client a moment before the connection reports itself idle.
        XCTAssertTrue(eventually { server.idleConnectionCount == 1 })
        let busy = try TestClient(port: port)
        busy.send("GET / HTTP/1.1\r\n")  // in the middle of a request: not idle
        XCTAssertTrue(eventually { server.connectionCount == 2 })

        let newcomer = try TestClient(port: port)
        newcomer.send("GET /new HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(newcomer.readResponse()?.text, "ok /new", "served, not 503")
        XCTAssertTrue(oldest.closesSilently(within: 2), "the idle connection made room")
        busy.send("Host: t\r\n\r\n")
        XCTAssertEqual(busy.readResponse()?.status, 200, "the busy one was left alone")
    }

    func testDeadlineScaleFollowsOccupancy() {
        let tightening = HTTPServerConfiguration.DeadlineTightening()
        XCTAssertEqual(tightening.scale(open: 0, capacity: 512), 1)
        XCTAssertEqual(tightening.scale(open: 256, capacity: 512), 1, "full timeouts up to half full")
        XCTAssertEqual(tightening.scale(open: 384, capacity: 512), 0.55, accuracy: 1e-9)
        XCTAssertEqual(tightening.scale(open: 512, capacity: 512), 0.1, accuracy: 1e-9)
        XCTAssertEqual(tightening.scale(open: 600, capacity: 512), 0.1, accuracy: 1e-9, "never below the floor")
        var off = tightening
        off.startOccupancy = 1
        XCTAssertEqual(off.scale(open: 512, capacity: 512), 1)
    }
}
