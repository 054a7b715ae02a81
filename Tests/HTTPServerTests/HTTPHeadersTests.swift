import XCTest

@testable import HTTPServer

final class HTTPHeadersTests: XCTestCase {
    func testCaseInsensitiveLookupKeepsOrderAndSpelling() {
        var headers: HTTPHeaders = ["Content-Type": "a", "X-Thing": "1", "x-thing": "2"]
        XCTAssertEqual(headers["content-type"], "a")
        XCTAssertEqual(headers["X-THING"], "1")
        XCTAssertEqual(headers.values(for: "x-Thing"), ["1", "2"])
        XCTAssertTrue(headers.contains("CONTENT-TYPE"))
        headers.add(name: "Set-Cookie", value: "b")
        XCTAssertEqual(headers.map(\.name), ["Content-Type", "X-Thing", "x-thing", "Set-Cookie"])
        headers["x-thing"] = "3"
        XCTAssertEqual(headers.map(\.name), ["Content-Type", "X-Thing", "Set-Cookie"])
        XCTAssertEqual(headers["x-thing"], "3")
        headers["content-type"] = nil
        XCTAssertEqual(headers.count, 2)
        XCTAssertNil(headers["content-type"])
    }

    func testTokens() {
        let headers: HTTPHeaders = ["Connection": "keep-alive, Upgrade", "connection": " close ,,"]
        XCTAssertEqual(headers.tokens(for: "connection"), ["keep-alive", "Upgrade", "close"])
    }
}
