import Foundation
import LockedValue
import XCTest

@testable import HTTPServer

/// A client that sends its request and then half-closes (`shutdown(SHUT_WR)`, as `nc -q`, some
/// proxies and HTTP/1.0-style clients do) still gets its answer; a client that closed completely
/// is still noticed as gone while its request runs. These check it with the kernel's resets; the
/// probe's rules (intervals, none for HTTP/1.0) are tested on `ConnectionStateMachine`.
final class HalfCloseTests: XCTestCase {
    func testHalfClosedRequestIsAnswered() throws {
        let (server, port) = try startServer()
        let client = try TestClient(port: port)
        client.send("GET /a HTTP/1.1\r\nHost: t\r\n\r\n")
        client.finishSending()
        let response = client.readResponse()
        XCTAssertEqual(response?.text, "ok /a")
        XCTAssertTrue(client.closesSilently(within: 2), "nothing more can come: the server closes after answering")
        XCTAssertTrue(eventually { server.connectionCount == 0 })
    }

    func testPipelinedRequestsBeforeTheFINAreAllAnswered() throws {
        let (_, port) = try startServer()
        let client = try TestClient(port: port)
        client.send(
            "GET /sleep?ms=20 HTTP/1.1\r\nHost: t\r\n\r\nPOST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi"
                + "HEAD /h HTTP/1.1\r\nHost: t\r\n\r\n")
        client.finishSending()
        XCTAssertEqual(client.readResponse()?.text, "slept 20")
        XCTAssertEqual(client.readResponse()?.text, "hi")
        XCTAssertEqual(client.readResponse(isHeadRequest: true)?.headers["content-length"], "5")
        XCTAssertTrue(client.closesSilently(within: 2))
    }

    func testMalformedHalfClosedRequestGetsItsError() throws {
        let (_, port) = try startServer()
        for request in ["GET /\(String(repeating: "a", count: 9000)) HTTP/1.1\r\nHost: t\r\n\r\n", "GET / HTTP/1.1\r\nHost : t\r\n\r\n"] {
            let client = try TestClient(port: port)
            client.send(request)
            client.finishSending()
            let status = client.readResponse()?.status
            XCTAssertTrue(status == 414 || status == 400, "\(String(describing: status))")
            XCTAssertTrue(client.closesSilently(within: 2))
            let probe = try TestClient(port: port)
            probe.send("GET /ok HTTP/1.1\r\nHost: t\r\n\r\n")
            probe.finishSending()
            XCTAssertEqual(probe.readResponse()?.text, "ok /ok", "the next half-closing client is served")
        }
    }

    func testIncompleteRequestAtFINClosesSilently() throws {
        let (server, port) = try startServer()
        let client = try TestClient(port: port)
        client.send("GET / HTTP/1.1\r\nHost: t\r\n")
        client.finishSending()
        XCTAssertTrue(client.closesSilently(within: 2), "a request cut short can never be answered")
        XCTAssertTrue(eventually { server.connectionCount == 0 })
    }

    /// A long request of a half-closed client: it gets interim 100s (the probes), stays
    /// "connected" for its handler, and gets its response.
    func testHalfClosedClientWaitingForALongResponseIsProbedAndAnswered() throws {
        let gate = TestGate()
        let stayedConnected = Locked(false)
        let (_, port) = try startServer(
            { $0.timeouts.halfClosedProbe = 0.05 },
            handler: { _, context in
                await gate.wait()
                stayedConnected.withLock { $0 = context.isClientConnected }
                return HTTPResponse(text: "done")
            })
        let client = try TestClient(port: port)
        client.send("GET /long HTTP/1.1\r\nHost: t\r\n\r\n")
        client.finishSending()
        XCTAssertEqual(client.readResponse()?.status, 100, "a probe")
        XCTAssertEqual(client.readResponse()?.status, 100, "probes repeat while the handler runs")
        gate.open()
        var response = client.readResponse()
        while response?.status == 100 { response = client.readResponse() }
        XCTAssertEqual(response?.text, "done")
        XCTAssertTrue(stayedConnected.withLock { $0 })
        XCTAssertTrue(client.closesSilently(within: 2))
    }

    /// FIN then a full close: the probe draws a reset, and the handler hears of the disconnect.
    func testClientThatClosedCompletelyIsFoundGone() throws {
        let disconnected = expectation(description: "disconnect callback")
        let handlerRunning = expectation(description: "handler running")
        let gate = TestGate()
        let (server, port) = try startServer(
            { $0.timeouts.halfClosedProbe = 0.05 },
            handler: { _, context in
                context.onClientDisconnect {
                    disconnected.fulfill()
                    gate.open()
                }
                handlerRunning.fulfill()
                await gate.wait()
                return HTTPResponse(text: "nobody reads this")
            })
        var client: TestClient? = try TestClient(port: port)
        client?.send("GET /long HTTP/1.1\r\nHost: t\r\n\r\n")
        wait(for: [handlerRunning], timeout: 3)
        client = nil  // close(): FIN, and a reset for whatever the server sends next
        wait(for: [disconnected], timeout: 3)
        XCTAssertTrue(eventually { server.connectionCount == 0 })
        assertServesNormally(port: port)
    }

    /// A client that closes completely during a stream is noticed from the reset its next bytes
    /// draw, without waiting for yet another write.
    func testClientThatClosesDuringAStreamIsFoundGoneBetweenWrites() throws {
        let disconnected = expectation(description: "disconnect callback")
        let clientClosed = TestGate()
        let gone = TestGate()
        let (_, port) = try startServer(
            { $0.timeouts.halfClosedProbe = 0.05 },
            handler: { _, context in
                HTTPResponse(
                    body: .stream { writer in
                        context.onClientDisconnect {
                            disconnected.fulfill()
                            gone.open()
                        }
                        try await writer.write("first")
                        await clientClosed.wait()
                        try await writer.write("second, to a closed socket")
                        await gone.wait()  // no further write: only the reset check can end this
                    })
            })
        var client: TestClient? = try TestClient(port: port)
        client?.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertNotNil(client?.readHead())
        XCTAssertEqual(client?.readChunk(), Array("first".utf8))
        client = nil
        clientClosed.open()
        wait(for: [disconnected], timeout: 3)
    }
}
