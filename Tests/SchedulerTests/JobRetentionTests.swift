import XCTest

@testable import Scheduler

final class JobRetentionTests: XCTestCase {
    /// Forgets every call's jobs into `forgotten` as "id:reason".
    private func removeExcess(_ retention: inout JobRetention, at now: ContinuousClock.Instant) -> [String] {
        var forgotten: [String] = []
        retention.removeExcess(at: now) { forgotten.append("\($0):\($1.rawValue)") }
        return forgotten
    }

    func testForgetsJobsInFinishingOrderAfterTheirRetention() {
        let t0 = ContinuousClock.now
        var retention = JobRetention(limits: .init(duration: .seconds(10)))
        retention.retire("a", bytes: 1, at: t0)
        retention.retire("b", bytes: 1, at: t0 + .seconds(5))
        XCTAssertEqual(retention.nextExpiry, t0 + .seconds(10))
        XCTAssertEqual(removeExcess(&retention, at: t0 + .seconds(9)), [])
        XCTAssertEqual(removeExcess(&retention, at: t0 + .seconds(10)), ["a:expired"])
        XCTAssertEqual(retention.count, 1)
        XCTAssertEqual(retention.nextExpiry, t0 + .seconds(15))
        retention.retire("c", bytes: 1, at: t0 + .seconds(11))
        XCTAssertEqual(removeExcess(&retention, at: t0 + .seconds(30)), ["b:expired", "c:expired"])
        XCTAssertEqual(retention.count, 0)
        XCTAssertEqual(retention.bytes, 0)
        XCTAssertNil(retention.nextExpiry)
    }

    func testCountBoundForgetsTheOldestFirst() {
        let t0 = ContinuousClock.now
        var retention = JobRetention(limits: .init(duration: .seconds(600), maxJobs: 2))
        var forgotten: [String] = []
        for (offset, id) in ["a", "b", "c", "d"].enumerated() {
            retention.retire(id, bytes: 10, at: t0 + .seconds(offset))
            forgotten += removeExcess(&retention, at: t0 + .seconds(offset))
        }
        XCTAssertEqual(forgotten, ["a:count", "b:count"])
        XCTAssertEqual(retention.count, 2)
        XCTAssertEqual(retention.bytes, 20)
    }

    func testByteBoundForgetsTheOldestUntilTheRestFits() {
        let t0 = ContinuousClock.now
        var retention = JobRetention(limits: .init(duration: .seconds(600), maxBytes: 100))
        retention.retire("a", bytes: 40, at: t0)
        retention.retire("b", bytes: 40, at: t0)
        XCTAssertEqual(removeExcess(&retention, at: t0), [])
        retention.retire("c", bytes: 70, at: t0 + .seconds(1))
        // 150 bytes: "a" alone is not enough (110), "b" too (70).
        XCTAssertEqual(removeExcess(&retention, at: t0 + .seconds(1)), ["a:bytes", "b:bytes"])
        XCTAssertEqual(retention.bytes, 70)
        // A job larger than the whole bound is not kept at all.
        retention.retire("huge", bytes: 500, at: t0 + .seconds(2))
        XCTAssertEqual(removeExcess(&retention, at: t0 + .seconds(2)), ["c:bytes", "huge:bytes"])
        XCTAssertEqual(retention.count, 0)
        XCTAssertEqual(retention.bytes, 0)
    }

    func testExpiryIsReportedBeforeTheBounds() {
        let t0 = ContinuousClock.now
        var retention = JobRetention(limits: .init(duration: .seconds(10), maxJobs: 1))
        retention.retire("a", bytes: 1, at: t0)
        retention.retire("b", bytes: 1, at: t0 + .seconds(1))
        XCTAssertEqual(removeExcess(&retention, at: t0 + .seconds(10)), ["a:expired"])
        XCTAssertEqual(retention.count, 1)
    }
}
