import XCTest

@testable import HTTPServer

final class RequestIDTests: XCTestCase {
    func testSaneIncomingIDsAreKept() {
        XCTAssertEqual(RequestID.choose(incoming: "abc-123_x.y:z"), "abc-123_x.y:z")
    }

    func testInsaneIncomingIDsAreReplaced() {
        for bad in ["", "has space", "new\nline", String(repeating: "a", count: 129), "ü"] {
            let chosen = RequestID.choose(incoming: bad)
            XCTAssertNotEqual(chosen, bad)
            XCTAssertTrue(RequestID.isSane(chosen))
        }
        XCTAssertEqual(RequestID.generate().count, 32)
        XCTAssertNotEqual(RequestID.generate(), RequestID.generate())
    }
}
