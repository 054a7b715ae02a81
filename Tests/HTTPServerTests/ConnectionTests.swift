import Foundation
import LockedValue
import XCTest

@testable import HTTPServer

final class ConnectionTests: XCTestCase {
    func testKeepAliveServesSeveralRequests() throws {
        let (_, port) = try startServer()
        let client = try TestClient(port: port)
        for index in 0..<3 {
            client.send("GET /n\(index) HTTP/1.1\r\nHost: t\r\n\r\n")
            let response = client.readResponse()
            XCTAssertEqual(response?.text, "ok /n\(index)")
            XCTAssertNil(response?.headers["connection"])
        }
    }

    func testStandardHeaders() throws {
        let (_, port) = try startServer()
        let client = try TestClient(port: port)
        client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        let response = try XCTUnwrap(client.readResponse())
        XCTAssertEqual(response.headers["server"], "enat-serve")
        let date = try XCTUnwrap(response.headers["date"])
        XCTAssertTrue(date.hasSuffix(" GMT") && date.count == 29, date)
        XCTAssertEqual(response.headers["content-length"], "4")  // "ok /"
        XCTAssertEqual(response.headers["x-request-id"]?.count, 32)
    }

    func testHTTP10ClosesUnlessKeepAliveIsAsked() throws {
        let (_, port) = try startServer()
        let plain = try TestClient(port: port)
        plain.send("GET /a HTTP/1.0\r\n\r\n")
        XCTAssertEqual(plain.readResponse()?.headers["connection"], "close")
        XCTAssertTrue(plain.closesSilently(within: 2))

        let keepAlive = try TestClient(port: port)
        keepAlive.send("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        XCTAssertEqual(keepAlive.readResponse()?.headers["connection"], "keep-alive")
        keepAlive.send("GET /b HTTP/1.0\r\n\r\n")
        XCTAssertEqual(keepAlive.readResponse()?.text, "ok /b")
        XCTAssertTrue(keepAlive.closesSilently(within: 2))
    }

    func testConnectionCloseFromClient() throws {
        let (_, port) = try startServer()
        let client = try TestClient(port: port)
        client.send("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(client.readResponse()?.headers["connection"], "close")
        XCTAssertTrue(client.closesSilently(within: 2))
    }

    func testPipelinedResponsesComeInRequestOrder() throws {
        let (_, port) = try startServer()
        let client = try TestClient(port: port)
        // The first request is the slowest: a server answering as handlers finish would reorder.
        client.send(
            "GET /sleep?ms=150 HTTP/1.1\r\nHost: t\r\n\r\n"
                + "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nfirst"
                + "GET /sleep?ms=10 HTTP/1.1\r\nHost: t\r\n\r\n"
                + "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nlas\r\n1\r\nt\r\n0\r\n\r\n"
                + "GET /end HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        let bodies = (0..<5).map { _ in client.readResponse()?.text }
        XCTAssertEqual(bodies, ["slept 150", "first", "slept 10", "last", "ok /end"])
        XCTAssertTrue(client.closesSilently(within: 2))
    }

    func testExpectContinueInvitesTheBody() throws {
        let (_, port) = try startServer()
        let client = try TestClient(port: port)
        client.send("POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        let interim = client.readResponse()
        XCTAssertEqual(interim?.status, 100)
        client.send("hello")
        let response = client.readResponse()
        XCTAssertEqual(response?.status, 200)
        XCTAssertEqual(response?.text, "hello")
    }

    func testExpectContinueWithTooLargeBodyGets413Instead() throws {
        let (_, port) = try startServer { $0.limits.maxBodyBytes = 10 }
        let client = try TestClient(port: port)
        client.send("POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 11\r\n\r\n")
        XCTAssertEqual(client.readResponse()?.status, 413, "no 100 Continue may come first")
        XCTAssertTrue(client.closesSilently(within: 2))
        assertServesNormally(port: port)
    }

    func testNoContinueWhenTheBodyIsAlreadyThere() throws {
        let (_, port) = try startServer()
        let client = try TestClient(port: port)
        client.send("POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi")
        let response = client.readResponse()
        XCTAssertEqual(response?.status, 200)
        XCTAssertEqual(response?.text, "hi")
    }

    func testChunkedRequestBodyWithExtensionsAndTrailers() throws {
        let (_, port) = try startServer()
        let client = try TestClient(port: port)
        client.send(
            "POST /echo?a=1&b=x%20y HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "4;ext=1\r\nwiki\r\n5\r\npedia\r\n0\r\nX-Checksum: 42\r\n\r\n")
        let response = client.readResponse()
        XCTAssertEqual(response?.text, "wikipedia")
        XCTAssertEqual(response?.headers["x-trailer"], "42")
        XCTAssertEqual(response?.headers["x-query"], "a=1&b=x y")
        XCTAssertEqual(response?.headers["x-method"], "POST")
    }

    func testHeadRequestsGetHeadersWithoutBody() throws {
        let (_, port) = try startServer()
        let client = try TestClient(port: port)
        client.send("HEAD /x HTTP/1.1\r\nHost: t\r\n\r\n")
        let head = client.readResponse(isHeadRequest: true)
        XCTAssertEqual(head?.headers["content-length"], "5")  // "ok /x"
        // If body bytes had been sent, they would be read as the next status line.
        client.send("GET /y HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(client.readResponse()?.text, "ok /y")
    }

    func testRequestIDsAreHonouredOrGenerated() throws {
        let (_, port) = try startServer()
        let client = try TestClient(port: port)
        client.send("GET /id HTTP/1.1\r\nHost: t\r\nX-Request-Id: my-id.42\r\n\r\n")
        let honoured = client.readResponse()
        XCTAssertEqual(honoured?.text, "my-id.42")
        XCTAssertEqual(honoured?.headers["x-request-id"], "my-id.42")
        client.send("GET /id HTTP/1.1\r\nHost: t\r\nX-Request-Id: bad id <script>\r\n\r\n")
        let replaced = client.readResponse()
        XCTAssertEqual(replaced?.text.count, 32)
        XCTAssertEqual(replaced?.headers["x-request-id"], replaced?.text)
    }

    func testHandlerLearnsOfDisconnectWithoutWriting() throws {
        let disconnected = expectation(description: "disconnect callback")
        let handlerRunning = expectation(description: "handler running")
        let sawDisconnected = Locked(false)
        let (_, port) = try startServer(handler: { _, context in
            context.onClientDisconnect { disconnected.fulfill() }
            handlerRunning.fulfill()
            // Simulated long work that checks on the client, as a scheduler would.
            for _ in 0..<500 where context.isClientConnected {
                try? await Task.sleep(for: .milliseconds(10))
            }
            sawDisconnected.withLock { $0 = !context.isClientConnected }
            return HTTPResponse(text: "late")
        })
        let client = try TestClient(port: port)
        client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        wait(for: [handlerRunning], timeout: 3)
        client.reset()
        wait(for: [disconnected], timeout: 3)
        XCTAssertTrue(eventually { sawDisconnected.withLock { $0 } })
    }

    func testHundredsOfConcurrentConnections() throws {
        // All from 127.0.0.1, so the per-address limit is lifted to the server's.
        let (server, port) = try startServer { $0.maxConnectionsPerAddress = $0.maxConnections }
        let clients = try (0..<300).map { _ in try TestClient(port: port) }
        for (index, client) in clients.enumerated() {
            client.send("GET /sleep?ms=20&i=\(index) HTTP/1.1\r\nHost: t\r\n\r\n")
        }
        XCTAssertTrue(eventually { server.connectionCount == 300 })
        for client in clients { XCTAssertEqual(client.readResponse()?.text, "slept 20") }
    }
}
