import Foundation
import HTTPServer
import LockedValue
import ServerLog
import XCTest

@testable import ImageAPI

/// API keys, job visibility, CORS and forwarded links, on a live loopback server.
final class AccessTests: XCTestCase {
    func testKeysGuardEveryRouteButProbesPageAndMetrics() throws {
        let live = try startLiveServer { $0.apiKeys = APIKeys(["alpha", "beta"]) }
        for path in ["/healthz", "/health", "/readyz", "/", "/metrics"] {
            XCTAssertNotEqual(try WireClient.request(port: live.port, "GET", path).status, 401, path)
        }
        let missing = try WireClient.request(port: live.port, "GET", "/v1/models")
        XCTAssertEqual(missing.status, 401)
        XCTAssertEqual(missing.header("WWW-Authenticate"), "Bearer")
        let error = try missing.error()
        XCTAssertEqual(error["code"] as? String, "missing_api_key")
        XCTAssertEqual(error["type"] as? String, "invalid_request_error")
        XCTAssertTrue(error.keys.contains("param"))
        let wrong = try WireClient.request(port: live.port, "GET", "/v1/models", headers: [("Authorization", "Bearer alphx")])
        XCTAssertEqual(try wrong.error()["code"] as? String, "invalid_api_key")
        XCTAssertEqual(try WireClient.request(port: live.port, "GET", "/v1/models", headers: [("Authorization", "Bearer beta")]).status, 200)
        let post = try WireClient.request(port: live.port, "POST", "/v1/jobs", body: #"{"class": "blue square", "steps": 1}"#)
        XCTAssertEqual(post.status, 401, "generation needs a key")
    }

    func testAJobIsVisibleOnlyToTheKeyThatCreatedIt() throws {
        let live = try startLiveServer { $0.apiKeys = APIKeys(["alpha", "beta"]) }
        let created = try WireClient.request(
            port: live.port, "POST", "/v1/jobs", headers: [("Authorization", "Bearer alpha")], body: #"{"class": "blue square", "steps": 2}"#)
        XCTAssertEqual(created.status, 202)
        let id = try XCTUnwrap(try created.json()["id"] as? String)
        XCTAssertEqual(id.count, 36, "job_ and 128 random bits")
        XCTAssertEqual(try WireClient.request(port: live.port, "GET", "/v1/jobs/\(id)", headers: [("Authorization", "Bearer alpha")]).status, 200)
        for method in ["GET", "DELETE"] {
            let other = try WireClient.request(port: live.port, method, "/v1/jobs/\(id)", headers: [("Authorization", "Bearer beta")])
            XCTAssertEqual(other.status, 404, "another key does not see the job (\(method))")
        }
        let image = try WireClient.request(port: live.port, "GET", "/v1/jobs/\(id)/image", headers: [("Authorization", "Bearer beta")])
        XCTAssertEqual(image.status, 404)
    }

    func testCrossOriginAllowList() throws {
        let live = try startLiveServer { $0.crossOrigin = CrossOriginPolicy(origins: ["https://app.example"]) }
        let preflight = try WireClient.request(
            port: live.port, "OPTIONS", "/v1/jobs",
            headers: [
                ("Origin", "https://app.example"), ("Access-Control-Request-Method", "POST"),
                ("Access-Control-Request-Headers", "authorization, content-type"),
            ])
        XCTAssertEqual(preflight.status, 204)
        XCTAssertEqual(preflight.header("Access-Control-Allow-Origin"), "https://app.example")
        XCTAssertTrue(preflight.header("Access-Control-Allow-Headers")?.contains("Authorization") ?? false)
        XCTAssertNil(preflight.header("Access-Control-Allow-Credentials"))
        let stranger = try WireClient.request(
            port: live.port, "OPTIONS", "/v1/jobs",
            headers: [
                ("Origin", "https://evil.example"), ("Access-Control-Request-Method", "POST"),
            ])
        XCTAssertNil(stranger.header("Access-Control-Allow-Origin"))
        let simple = try WireClient.request(port: live.port, "GET", "/v1/models", headers: [("Origin", "https://app.example")])
        XCTAssertEqual(simple.header("Access-Control-Allow-Origin"), "https://app.example")
        XCTAssertTrue(simple.header("Access-Control-Expose-Headers")?.contains("X-Seed") ?? false)
        XCTAssertEqual(simple.header("Vary"), "Origin")
        // Without an allow-list, no CORS header at all.
        let closed = try startLiveServer()
        let none = try WireClient.request(port: closed.port, "GET", "/v1/models", headers: [("Origin", "https://app.example")])
        XCTAssertNil(none.header("Access-Control-Allow-Origin"))
        XCTAssertEqual(CrossOriginPolicy(origins: ["*"]).allowedOrigin("https://any.example"), "*")
    }

    func testKeysCompareInFull() {
        XCTAssertTrue(APIKeys.constantTimeEqual(Array("secret".utf8), Array("secret".utf8)))
        XCTAssertFalse(APIKeys.constantTimeEqual(Array("secret".utf8), Array("secreT".utf8)))
        XCTAssertFalse(APIKeys.constantTimeEqual(Array("secret".utf8), Array("secret2".utf8)))
        XCTAssertFalse(APIKeys.constantTimeEqual(Array("".utf8), Array("a".utf8)))
        let keys = APIKeys(["a1", "b2"])
        XCTAssertEqual(keys.check(authorization: "Bearer b2"), .key(1))
        XCTAssertEqual(keys.check(authorization: "bearer a1"), .key(0))
        XCTAssertEqual(keys.check(authorization: "Basic a1"), .missing)
        XCTAssertEqual(keys.check(authorization: nil), .missing)
        XCTAssertEqual(keys.check(authorization: "Bearer a"), .wrong)
        XCTAssertEqual(APIKeys([]).check(authorization: nil), .open)
    }

    func testLinksTrustForwardedHeadersOnlyFromTrustedProxies() {
        func request(_ headers: [(String, String)]) -> HTTPRequest {
            HTTPRequest(method: .post, target: "/v1/images/generations", path: "/v1/images/generations", headers: HTTPHeaders(headers))
        }
        let base = PublicBaseURL(trustedProxies: ["10.0.0.1", "::1"])
        let forwarded = request([("Host", "internal:8080"), ("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "images.example")])
        XCTAssertEqual(base.base(for: forwarded, remoteAddress: "10.0.0.1:5000"), "https://images.example")
        XCTAssertEqual(base.base(for: forwarded, remoteAddress: "10.0.0.2:5000"), "http://internal:8080", "untrusted: ignored")
        let rfc = request([("Host", "internal"), ("Forwarded", #"for=1.2.3.4;proto=https;host="pub.example:8443", for=5.6.7.8"#)])
        XCTAssertEqual(base.base(for: rfc, remoteAddress: "::1:5000"), "https://pub.example:8443")
        XCTAssertEqual(
            base.base(for: request([("Host", "evil.example/x?")]), remoteAddress: "1.1.1.1:1"), "http://localhost",
            "a Host that is not host[:port] is not echoed")
        XCTAssertEqual(base.base(for: request([("Host", "[::1]:8080")]), remoteAddress: "1.1.1.1:1"), "http://[::1]:8080")
        let badProto = request([("Host", "h"), ("X-Forwarded-Proto", "javascript")])
        XCTAssertEqual(base.base(for: badProto, remoteAddress: "10.0.0.1:1"), "http://h")
    }

    func testPageHeadersAndLogLines() throws {
        let lines = Locked<[String]>([])
        let live = try startLiveServer { $0.logger = Logger(level: .info) { line in lines.withLock { $0.append(line) } } }
        let page = try WireClient.request(port: live.port, "GET", "/")
        XCTAssertEqual(page.header("X-Content-Type-Options"), "nosniff")
        XCTAssertEqual(page.header("X-Frame-Options"), "DENY")
        XCTAssertTrue(page.header("Content-Security-Policy")?.contains("frame-ancestors 'none'") ?? false)
        _ = try WireClient.request(port: live.port, "GET", "/healthz")
        let bad = try WireClient.request(port: live.port, "GET", "/v1/jobs/new?class=purple%20hexagon")
        XCTAssertEqual(bad.status, 400)
        XCTAssertTrue(eventually { lines.withLock { $0.contains { $0.contains("\"status\":400") } } })
        let logged = lines.withLock { $0 }
        let line = try XCTUnwrap(logged.first { $0.contains("\"status\":400") })
        XCTAssertTrue(line.contains(#""error_code":"unknown_class""#), line)
        XCTAssertTrue(line.contains("purple hexagon"), "the message: \(line)")
        XCTAssertFalse(logged.contains { $0.contains("\"path\":\"/healthz\"") }, "probes are logged at debug")
        let metrics = try WireClient.request(port: live.port, "GET", "/metrics")
        XCTAssertTrue(metrics.text.contains(#"enat_submit_rejections_total{reason="invalid"} 1"#), metrics.text)
    }
}
