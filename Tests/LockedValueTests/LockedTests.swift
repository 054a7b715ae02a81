import Dispatch
import LockedValue
import XCTest

final class LockedTests: XCTestCase {
    func testConcurrentUpdatesAreNotLost() {
        let counter = Locked(0)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<10_000 { counter.withLock { $0 += 1 } }
        }
        XCTAssertEqual(counter.withLock { $0 }, 80_000)
    }

    func testWithLockReturnsAndRethrows() {
        struct Failure: Error {}
        let names = Locked(["a"])
        XCTAssertEqual(
            names.withLock {
                $0.append("b"); return $0.count
            }, 2)
        XCTAssertThrowsError(try names.withLock { _ in throw Failure() })
        XCTAssertEqual(names.withLock { $0 }, ["a", "b"], "a throwing body leaves the value as it was")
    }
}
