import XCTest

@testable import Scheduler

final class JobRetentionTests: XCTestCase {
    func testForgetsJobsInFinishingOrderAfterTheirRetention() {
        let t0 = ContinuousClock.now
        var retention = JobRetention(duration: .seconds(10))
        retention.retire("a", at: t0)
        retention.retire("b", at: t0 + .seconds(5))
        var forgotten: [String] = []
        retention.removeExpired(at: t0 + .seconds(9)) { forgotten.append($0) }
        XCTAssertEqual(forgotten, [])
        retention.removeExpired(at: t0 + .seconds(10)) { forgotten.append($0) }
        XCTAssertEqual(forgotten, ["a"])
        XCTAssertEqual(retention.count, 1)
        retention.retire("c", at: t0 + .seconds(11))
        retention.removeExpired(at: t0 + .seconds(30)) { forgotten.append($0) }
        XCTAssertEqual(forgotten, ["a", "b", "c"])
        XCTAssertEqual(retention.count, 0)
    }
}
