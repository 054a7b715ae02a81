import Foundation
import Glibc
import LockedValue
import XCTest

@testable import HTTPServer

final class HTTPServerTests: XCTestCase {
    func testPortZeroPicksAFreePortAndStartTwiceFails() throws {
        let (server, port) = try startServer()
        XCTAssertGreaterThan(port, 0)
        XCTAssertEqual(server.port, port)
        XCTAssertThrowsError(try server.start()) { XCTAssertEqual(($0 as? SocketError)?.code, EALREADY) }
    }

    func testBindFailureIsATypedError() throws {
        let (_, port) = try startServer()
        let second = HTTPServer(configuration: .init(host: "127.0.0.1", port: port)) { _, _ in HTTPResponse() }
        XCTAssertThrowsError(try second.start()) { error in
            XCTAssertEqual((error as? SocketError)?.operation, "bind")
            XCTAssertEqual((error as? SocketError)?.code, EADDRINUSE)
        }
        let bad = HTTPServer(configuration: .init(host: "not-an-ip", port: 0)) { _, _ in HTTPResponse() }
        XCTAssertThrowsError(try bad.start())
    }

    func testConnectionCapAnswers503WithRetryAfter() throws {
        let (server, port) = try startServer {
            $0.maxConnections = 2; $0.retryAfterSeconds = 3
        }
        var first: TestClient? = try TestClient(port: port)
        let second = try TestClient(port: port)
        // Both are in the middle of a request, so neither is idle and can give up its slot.
        for client in [first!, second] { client.send("GET / HTTP/1.1\r\n") }
        XCTAssertTrue(eventually { server.connectionCount == 2 })
        let extra = try TestClient(port: port)
        extra.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        let busy = extra.readResponse()
        XCTAssertEqual(busy?.status, 503)
        XCTAssertEqual(busy?.headers["retry-after"], "3")
        XCTAssertEqual(busy?.headers["connection"], "close")
        XCTAssertTrue(extra.closesSilently(within: 2))

        first = nil  // closes: a slot frees up
        XCTAssertTrue(eventually { server.connectionCount <= 1 })
        assertServesNormally(port: port)
    }

    func testGracefulShutdownEndsAnInFlightStreamCleanly() throws {
        let (server, port) = try startServer(handler: { request, context in
            if request.path != "/stream" { return await TestHandlers.standard(request, context) }
            return HTTPResponse(
                body: .stream { writer in
                    while !Task.isCancelled {
                        try await writer.write("event: tick\n\n")
                        try? await Task.sleep(for: .milliseconds(20))
                    }
                    XCTAssertTrue(context.isServerDraining)
                    try await writer.write("event: shutdown\n\n")
                })
        })
        let idle = try TestClient(port: port)
        idle.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(idle.readResponse()?.text, "ok /")

        let slow = try TestClient(port: port)
        slow.send("GET /sleep?ms=150 HTTP/1.1\r\nHost: t\r\n\r\n")

        let streaming = try TestClient(port: port)
        streaming.send("GET /stream HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(streaming.readHead()?.status, 200)
        XCTAssertEqual(streaming.readChunk(), Array("event: tick\n\n".utf8))
        usleep(50_000)  // the slow request is surely in its handler now

        let finished = expectation(description: "shutdown returned")
        let started = Date()
        Task {
            await server.shutdown(deadline: .now + .milliseconds(400))
            finished.fulfill()
        }
        XCTAssertTrue(eventually { server.isDraining })
        XCTAssertTrue(idle.closesSilently(within: 1), "idle keep-alive connections close at once")
        // The listening socket is closed by its source's cancel handler, on the accept queue's next turn.
        XCTAssertTrue(eventually { (try? TestClient(port: port)) == nil }, "the listener is closed")

        // In-flight requests finish, with Connection: close.
        let answer = slow.readResponse()
        XCTAssertEqual(answer?.text, "slept 150")
        XCTAssertEqual(answer?.headers["connection"], "close")

        var events: [String] = []
        while let chunk = streaming.readChunk(), !chunk.isEmpty { events.append(String(decoding: chunk, as: UTF8.self)) }
        XCTAssertEqual(events.last, "event: shutdown\n\n")
        XCTAssertTrue(events.dropLast().allSatisfy { $0 == "event: tick\n\n" })
        XCTAssertTrue(streaming.closesSilently(within: 2), "the stream ended with its zero chunk, then the connection closed")

        wait(for: [finished], timeout: 3)
        let elapsed = Date().timeIntervalSince(started)
        XCTAssertGreaterThanOrEqual(elapsed, 0.35, "the stream ran until the deadline")
        XCTAssertLessThan(elapsed, 2)
        XCTAssertEqual(server.connectionCount, 0)
    }

    func testShutdownForceClosesStreamsThatIgnoreCancellation() throws {
        let writeError = Locked<ResponseWriteError?>(nil)
        let (server, port) = try startServer(
            { $0.shutdownCancellationGrace = 0.2 },
            handler: { _, _ in
                HTTPResponse(
                    body: .stream { writer in
                        do {
                            while true {
                                try await writer.write("x")
                                // Ignores cancellation on purpose.
                                await withCheckedContinuation { continuation in
                                    DispatchQueue.global().asyncAfter(deadline: .now() + 0.02) { continuation.resume() }
                                }
                            }
                        } catch let error as ResponseWriteError {
                            writeError.withLock { $0 = error }
                        }
                    })
            })
        let client = try TestClient(port: port)
        client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertNotNil(client.readHead())
        let started = Date()
        blocking { await server.shutdown(deadline: .now + .milliseconds(200)) }
        XCTAssertLessThan(Date().timeIntervalSince(started), 2)
        XCTAssertEqual(server.connectionCount, 0)
        XCTAssertTrue(eventually { writeError.withLock { $0 } == .connectionClosed })
    }

    func testShutdownWithNothingOpenReturnsAtOnce() throws {
        let (server, _) = try startServer()
        let started = Date()
        blocking { await server.shutdown(deadline: .now + .seconds(10)) }
        XCTAssertLessThan(Date().timeIntervalSince(started), 1)
        XCTAssertTrue(server.isDraining)
    }

    func testNoFileDescriptorsLeak() throws {
        let before = openFileDescriptorCount()
        do {
            let server = HTTPServer(configuration: .init(host: "127.0.0.1", port: 0), handler: TestHandlers.standard)
            let port = try server.start()
            for round in 0..<20 {
                let client = try TestClient(port: port)
                switch round % 4 {
                case 0: client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n"); _ = client.readResponse()
                case 1: client.send("GET / HTTP/9.9\r\n\r\n"); _ = client.readResponse()
                case 2: client.send("GET /sleep?ms=30 HTTP/1.1\r\nHost: t\r\n\r\n"); client.reset()
                default: client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")  // left open for shutdown
                }
            }
            blocking { await server.shutdown(deadline: .now + .milliseconds(200)) }
        }
        XCTAssertTrue(eventually { openFileDescriptorCount() == before }, "before \(before), after \(openFileDescriptorCount())")
    }
}
