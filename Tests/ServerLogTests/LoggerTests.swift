import Foundation
import ServerLog
import XCTest

final class LoggerTests: XCTestCase {
    /// Lines a logger wrote, collected from any thread.
    private final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func append(_ line: String) { lock.withLock { lines.append(line) } }
        var all: [String] { lock.withLock { lines } }
    }

    func testTextLogFormat() throws {
        let lines = Lines()
        let logger = Logger(level: .debug, format: .text) { line in lines.append(line) }
        logger.info("request", ["path": "/v1/jobs", "status": 400, "error": "'x' is not a class"])
        let line = try XCTUnwrap(lines.all.first)
        XCTAssertTrue(line.hasSuffix(#"INFO   request error="'x' is not a class" path=/v1/jobs status=400"#), line)
    }

    func testJSONLinesEscapeAndSortTheFields() throws {
        let lines = Lines()
        let logger = Logger(level: .info, format: .json) { line in lines.append(line) }
        logger.debug("dropped below the level")
        logger.warning("quote \" and /path", ["b": 2, "a": .bool(true), "x": .double(0.5)])
        XCTAssertEqual(lines.all.count, 1)
        let line = try XCTUnwrap(lines.all.first)
        XCTAssertTrue(line.hasSuffix(#""level":"warning","msg":"quote \" and /path","a":true,"b":2,"x":0.5}"#), line)
    }
}
