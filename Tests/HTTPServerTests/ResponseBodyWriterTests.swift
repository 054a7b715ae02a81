import Foundation
import LockedValue
import XCTest

@testable import HTTPServer

final class ResponseBodyWriterTests: XCTestCase {
    func testStreamingResponseIsChunkedAndTerminated() throws {
        let (_, port) = try startServer(handler: { _, _ in
            HTTPResponse(
                headers: ["Content-Type": "text/event-stream"],
                body: .stream { writer in
                    for index in 0..<5 { try await writer.write("data: \(index)\n\n") }
                    try await writer.write([])  // skipped: must not end the body early
                })
        })
        let client = try TestClient(port: port)
        client.send("GET /s HTTP/1.1\r\nHost: t\r\n\r\n")
        let response = try XCTUnwrap(client.readResponse())
        XCTAssertEqual(response.headers["transfer-encoding"], "chunked")
        XCTAssertNil(response.headers["content-length"])
        XCTAssertTrue(response.sawLastChunk)
        XCTAssertEqual(response.text, (0..<5).map { "data: \($0)\n\n" }.joined())
        // Keep-alive still works after a stream.
        client.send("GET /s HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(client.readResponse()?.sawLastChunk, true)
    }

    func testStreamToHTTP10IsCloseDelimited() throws {
        let (_, port) = try startServer(handler: { _, _ in
            HTTPResponse(
                body: .stream { writer in
                    try await writer.write("one,")
                    try await writer.write("two")
                })
        })
        let client = try TestClient(port: port)
        client.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        let response = client.readResponse()
        XCTAssertEqual(response?.text, "one,two")
        XCTAssertEqual(response?.headers["connection"], "close")
        XCTAssertTrue(client.sawEOF)
    }

    func testSlowReaderSuspendsTheWriter() throws {
        let chunk = [UInt8](repeating: 97, count: 16 * 1024)
        let chunks = 512  // 8 MiB: far more than every buffer on the way
        let written = Locked(0)
        let (server, port) = try startServer(
            {
                $0.maxBufferedResponseBytes = 32 * 1024
                $0.socketSendBufferBytes = 16 * 1024
            },
            handler: { _, _ in
                HTTPResponse(
                    body: .stream { writer in
                        for _ in 0..<chunks {
                            try await writer.write(chunk)
                            written.withLock { $0 += 1 }
                        }
                    })
            })
        let client = try TestClient(port: port, receiveBuffer: 16 * 1024)
        client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        // The client does not read: the kernel's buffers fill and the writer is made to wait.
        XCTAssertTrue(eventually { server.debugConnections().contains { $0.hasSuffix("waitingWriters=1") } })
        let writtenWhileStalled = written.withLock { $0 }
        // Our queue (32 KiB) + kernel send and receive buffers (a few hundred KiB at most): far below 8 MiB.
        XCTAssertLessThan(writtenWhileStalled * chunk.count, 2 * 1024 * 1024, "writer was not suspended")
        XCTAssertGreaterThan(writtenWhileStalled, 0)
        let response = try XCTUnwrap(client.readResponse(timeout: 20))
        XCTAssertTrue(response.sawLastChunk)
        XCTAssertEqual(response.body.count, chunks * chunk.count)
        XCTAssertEqual(written.withLock { $0 }, chunks)
    }

    /// `writeIfRoom` never waits for a slow reader: what does not fit is refused (for the caller
    /// to drop), so the connection's queue stays bounded and the client gets whole frames only.
    func testWriteIfRoomDropsInsteadOfBuffering() throws {
        let frame = [UInt8](repeating: 120, count: 4096)
        let frames = 2000  // 8 MiB offered to a reader that takes nothing meanwhile
        let accepted = Locked(0)
        let producerDone = expectation(description: "producer finished without waiting")
        let (_, port) = try startServer(
            {
                $0.maxBufferedResponseBytes = 32 * 1024
                $0.socketSendBufferBytes = 16 * 1024
            },
            handler: { _, _ in
                HTTPResponse(
                    body: .stream { writer in
                        for _ in 0..<frames where try await writer.writeIfRoom(frame) {
                            accepted.withLock { $0 += 1 }
                        }
                        producerDone.fulfill()
                    })
            })
        let client = try TestClient(port: port, receiveBuffer: 16 * 1024)
        client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        wait(for: [producerDone], timeout: 10)  // the client has read nothing yet
        let kept = accepted.withLock { $0 }
        XCTAssertGreaterThan(kept, 0)
        XCTAssertLessThan(kept * frame.count, 2 * 1024 * 1024, "frames were buffered instead of dropped")
        let response = try XCTUnwrap(client.readResponse(timeout: 10))
        XCTAssertTrue(response.sawLastChunk)
        XCTAssertEqual(response.body.count, kept * frame.count, "exactly the accepted frames arrive, whole")
    }

    func testWriterThrowsWhenTheClientDisconnects() throws {
        let failure = expectation(description: "writer failed")
        let error = Locked<ResponseWriteError?>(nil)
        let (server, port) = try startServer(handler: { _, _ in
            HTTPResponse(
                body: .stream { writer in
                    do {
                        while true {
                            try await writer.write("tick\n")
                            try await Task.sleep(for: .milliseconds(10))
                        }
                    } catch let writeError as ResponseWriteError {
                        error.withLock { $0 = writeError }
                        XCTAssertFalse(writer.isClientConnected)
                        failure.fulfill()
                    }
                })
        })
        let client = try TestClient(port: port)
        client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertNotNil(client.readHead())
        XCTAssertEqual(client.readChunk(), Array("tick\n".utf8))
        client.reset()
        wait(for: [failure], timeout: 3)
        XCTAssertEqual(error.withLock { $0 }, .clientDisconnected)
        XCTAssertTrue(eventually { server.connectionCount == 0 })
        assertServesNormally(port: port)
    }

    /// The write timeout's rule is tested on `ConnectionStateMachine`; this checks that the driver
    /// hands its reason to a writer blocked on a reader that takes nothing.
    func testWriteTimeoutDropsAStalledReader() throws {
        let failure = expectation(description: "writer timed out")
        let error = Locked<ResponseWriteError?>(nil)
        let started = Date()
        let (_, port) = try startServer(
            {
                $0.timeouts.write = 0.3
                $0.maxBufferedResponseBytes = 16 * 1024
                $0.socketSendBufferBytes = 8 * 1024
            },
            handler: { _, _ in
                HTTPResponse(
                    body: .stream { writer in
                        do {
                            while true { try await writer.write([UInt8](repeating: 98, count: 8192)) }
                        } catch let writeError as ResponseWriteError {
                            error.withLock { $0 = writeError }
                            failure.fulfill()
                        }
                    })
            })
        let client = try TestClient(port: port, receiveBuffer: 8 * 1024)
        client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        wait(for: [failure], timeout: 5)
        XCTAssertEqual(error.withLock { $0 }, .writeTimeout)
        XCTAssertLessThan(Date().timeIntervalSince(started), 3)
        assertServesNormally(port: port)
    }

    func testThrowingStreamEndsWithoutTerminatingChunk() throws {
        struct Boom: Error {}
        let (_, port) = try startServer(handler: { _, _ in
            HTTPResponse(
                body: .stream { writer in
                    try await writer.write("partial")
                    throw Boom()
                })
        })
        let client = try TestClient(port: port)
        client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        let response = client.readResponse()
        XCTAssertEqual(response?.text, "partial")
        XCTAssertEqual(response?.sawLastChunk, false, "a failed stream must look truncated")
        XCTAssertTrue(client.sawEOF)
    }
}
