import Foundation
import Scheduler
import XCTest

@testable import ImageAPI

final class StreamFramingTests: XCTestCase {
    func testServerSentEvents() {
        XCTAssertEqual(ServerSentEvents.event("progress", data: #"{"a":1}"#), "event: progress\ndata: {\"a\":1}\n\n")
        XCTAssertEqual(ServerSentEvents.event(nil, data: "a\nb"), "data: a\ndata: b\n\n")
        XCTAssertEqual(ServerSentEvents.comment("ping"), ": ping\n\n")
    }

    func testMultipartPartsEndWithTheirBoundary() {
        XCTAssertEqual(String(decoding: MultipartFraming.opening, as: UTF8.self), "--enatframe\r\n")
        let part = String(decoding: MultipartFraming.part(contentType: "image/png", body: Array("PNG".utf8), last: false), as: UTF8.self)
        XCTAssertEqual(part, "Content-Type: image/png\r\nContent-Length: 3\r\n\r\nPNG\r\n--enatframe\r\n")
        let last = String(decoding: MultipartFraming.part(contentType: "image/png", body: Array("X".utf8), last: true), as: UTF8.self)
        XCTAssertTrue(last.hasSuffix("X\r\n--enatframe--\r\n"))
        XCTAssertEqual(MultipartFraming.contentType, "multipart/x-mixed-replace; boundary=enatframe")
    }
}
