import Dispatch
import Foundation
// The shared test support (blocking, LoopbackSocket, SplitMix64) for every file of this target.
@_exported import TestSupport
import XCTest

@testable import HTTPServer

/// Starts servers on 127.0.0.1 with a kernel-picked port and shuts them down after each test.
extension XCTestCase {
    func startServer(
        _ configure: (inout HTTPServerConfiguration) -> Void = { _ in },
        handler: @escaping HTTPHandler = TestHandlers.standard,
        onRejection: HTTPRejectionObserver? = nil,
        file: StaticString = #filePath, line: UInt = #line
    ) throws -> (server: HTTPServer, port: Int) {
        var configuration = HTTPServerConfiguration(host: "127.0.0.1", port: 0)
        configure(&configuration)
        // `/ok` always gets the standard answer, so `assertServesNormally` works whatever the test's handler does.
        let server = HTTPServer(configuration: configuration, onRejection: onRejection) { request, context in
            request.path == "/ok" ? await TestHandlers.standard(request, context) : await handler(request, context)
        }
        let port = try server.start()
        addTeardownBlock {
            blocking { await server.shutdown(gracePeriod: .milliseconds(100)) }
        }
        return (server, port)
    }

    /// A fresh connection gets a normal 200: the server survived whatever the test did.
    func assertServesNormally(port: Int, file: StaticString = #filePath, line: UInt = #line) {
        do {
            let client = try TestClient(port: port)
            client.send("GET /ok HTTP/1.1\r\nHost: t\r\n\r\n")
            let response = client.readResponse()
            XCTAssertEqual(response?.status, 200, "server no longer serves", file: file, line: line)
            XCTAssertEqual(response?.text, "ok /ok", file: file, line: line)
        } catch {
            XCTFail("cannot connect: \(error)", file: file, line: line)
        }
    }

    /// Polls `condition` until true or `timeout`.
    func eventually(timeout: Double = 3, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            usleep(5000)
        }
        return condition()
    }
}

enum TestHandlers {
    /// `/echo` echoes the body (and reports method, query and a trailer); `/sleep?ms=` waits first;
    /// `/id` answers the request id; anything else says "ok <path>".
    static let standard: HTTPHandler = { request, context in
        switch request.path {
        case "/echo":
            var headers: HTTPHeaders = ["X-Method": request.method.rawValue]
            headers.add(name: "X-Query", value: request.queryItems.map { "\($0.name)=\($0.value ?? "-")" }.joined(separator: "&"))
            if let checksum = request.trailers["x-checksum"] { headers.add(name: "X-Trailer", value: checksum) }
            return HTTPResponse(status: .ok, headers: headers, body: .bytes(request.body))
        case "/sleep":
            let milliseconds = Int(request.queryValue("ms") ?? "0") ?? 0
            try? await Task.sleep(for: .milliseconds(milliseconds))
            return HTTPResponse(text: "slept \(milliseconds)")
        case "/id":
            return HTTPResponse(text: context.requestID)
        default:
            return HTTPResponse(headers: ["Content-Type": "text/plain"], text: "ok \(request.path)")
        }
    }
}

/// Open file descriptors of this process.
func openFileDescriptorCount() -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
}
