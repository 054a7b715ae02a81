import XCTest

@testable import Scheduler

/// Drives the pure state machine with a hand-made clock: no threads, no sleeps.
final class SchedulerStateMachineTests: XCTestCase {
    typealias Machine = SchedulerStateMachine
    let t0 = ContinuousClock.now

    func at(_ seconds: Double) -> ContinuousClock.Instant { t0 + .milliseconds(Int(seconds * 1000)) }

    func machine(models: Int = 1, batch: Int = 2, queue: Int = 4, wait: Duration = .seconds(60)) -> Machine {
        Machine(modelCount: models, limits: .init(maxBatchSize: batch, maxQueueLength: queue, maxQueueWait: wait))
    }

    func testQueueIsFirstComeFirstServedUpToTheBatchSize() {
        var m = machine(batch: 2)
        XCTAssertEqual(m.submit(id: "a", model: 0, deadline: nil, now: at(0)), .accepted(position: 0))
        XCTAssertEqual(m.submit(id: "b", model: 0, deadline: nil, now: at(0)), .accepted(position: 1))
        XCTAssertEqual(m.submit(id: "c", model: 0, deadline: nil, now: at(0)), .accepted(position: 2))
        let boundary = m.nextBoundary(now: at(1))
        XCTAssertEqual(boundary.started, ["a", "b"])
        XCTAssertEqual(boundary.positionUpdates, [.init(id: "c", position: 0)])
        XCTAssertEqual(boundary.work, .step(model: 0, ids: ["a", "b"]))
        XCTAssertEqual(m.runningCount, 2)
        XCTAssertEqual(m.queueDepth, 1)
    }

    func testNewJobJoinsTheRunningBatchAtTheNextBoundary() {
        var m = machine(batch: 4)
        _ = m.submit(id: "a", model: 0, deadline: nil, now: at(0))
        XCTAssertEqual(m.nextBoundary(now: at(0)).work, .step(model: 0, ids: ["a"]))
        XCTAssertEqual(m.nextBoundary(now: at(1)).work, .step(model: 0, ids: ["a"]))
        _ = m.submit(id: "b", model: 0, deadline: nil, now: at(1.5))
        let boundary = m.nextBoundary(now: at(2))
        XCTAssertEqual(boundary.started, ["b"])
        XCTAssertEqual(boundary.work, .step(model: 0, ids: ["a", "b"]))
        // "a" finishes; "b" goes on alone.
        m.finish(model: 0, ids: ["a"])
        XCTAssertEqual(m.nextBoundary(now: at(3)).work, .step(model: 0, ids: ["b"]))
        m.finish(model: 0, ids: ["b"])
        XCTAssertEqual(m.nextBoundary(now: at(4)).work, .idle)
        XCTAssertEqual(m.runningCount, 0)
    }

    func testFullQueueRefuses() {
        var m = machine(queue: 2)
        XCTAssertEqual(m.submit(id: "a", model: 0, deadline: nil, now: at(0)), .accepted(position: 0))
        XCTAssertEqual(m.submit(id: "b", model: 0, deadline: nil, now: at(0)), .accepted(position: 1))
        XCTAssertTrue(m.isQueueFull)
        XCTAssertEqual(m.submit(id: "c", model: 0, deadline: nil, now: at(0)), .queueFull)
        _ = m.nextBoundary(now: at(0))
        XCTAssertFalse(m.isQueueFull)
        XCTAssertEqual(m.submit(id: "c", model: 0, deadline: nil, now: at(0)), .accepted(position: 0))
    }

    func testModelsTakeTurnsAndShareTheBatchLimit() {
        var m = machine(models: 3, batch: 3)
        _ = m.submit(id: "a0", model: 0, deadline: nil, now: at(0))
        _ = m.submit(id: "b0", model: 1, deadline: nil, now: at(0))
        _ = m.submit(id: "a1", model: 0, deadline: nil, now: at(0))
        _ = m.submit(id: "c0", model: 2, deadline: nil, now: at(0))
        var boundary = m.nextBoundary(now: at(0))
        XCTAssertEqual(boundary.started, ["a0", "b0", "a1"])
        XCTAssertEqual(boundary.work, .step(model: 0, ids: ["a0", "a1"]))
        XCTAssertEqual(m.nextBoundary(now: at(1)).work, .step(model: 1, ids: ["b0"]))
        // Model 2's job waits: the batch is full, the queue is FIFO.
        XCTAssertEqual(m.nextBoundary(now: at(2)).work, .step(model: 0, ids: ["a0", "a1"]))
        m.finish(model: 1, ids: ["b0"])
        boundary = m.nextBoundary(now: at(3))
        XCTAssertEqual(boundary.started, ["c0"])
        XCTAssertEqual(boundary.work, .step(model: 2, ids: ["c0"]))
        XCTAssertEqual(m.nextBoundary(now: at(4)).work, .step(model: 0, ids: ["a0", "a1"]))
    }

    func testCancellingAQueuedJobRemovesItAtOnceAndMovesTheOthersUp() {
        var m = machine(batch: 1)
        for id in ["a", "b", "c", "d"] { _ = m.submit(id: id, model: 0, deadline: nil, now: at(0)) }
        XCTAssertEqual(
            m.cancel(id: "b"), .removedFromQueue(positionUpdates: [.init(id: "c", position: 1), .init(id: "d", position: 2)]))
        XCTAssertEqual(m.queueDepth, 3)
        XCTAssertEqual(m.cancel(id: "b"), .inactive)
        let boundary = m.nextBoundary(now: at(1))
        XCTAssertEqual(boundary.started, ["a"])
        XCTAssertEqual(boundary.failed, [])
        XCTAssertEqual(boundary.positionUpdates, [.init(id: "c", position: 0), .init(id: "d", position: 1)])
    }

    func testCancellingARunningJobFreesItsSlotAtTheNextBoundary() {
        var m = machine(batch: 1)
        _ = m.submit(id: "a", model: 0, deadline: nil, now: at(0))
        _ = m.submit(id: "b", model: 0, deadline: nil, now: at(0))
        XCTAssertEqual(m.nextBoundary(now: at(0)).work, .step(model: 0, ids: ["a"]))
        XCTAssertEqual(m.cancel(id: "a"), .stopsAtNextStep)
        XCTAssertEqual(m.cancel(id: "a"), .inactive)
        let boundary = m.nextBoundary(now: at(1))
        XCTAssertEqual(boundary.failed, [.init(id: "a", failure: .cancelled)])
        XCTAssertEqual(boundary.started, ["b"])
        XCTAssertEqual(boundary.work, .step(model: 0, ids: ["b"]))
    }

    func testQueueWaitAndRequestDeadlinesExpire() {
        var m = machine(batch: 1, wait: .seconds(10))
        _ = m.submit(id: "running", model: 0, deadline: at(20), now: at(0))
        _ = m.submit(id: "patient", model: 0, deadline: nil, now: at(0))
        _ = m.submit(id: "hurried", model: 0, deadline: at(5), now: at(0))
        XCTAssertEqual(m.nextBoundary(now: at(0)).started, ["running"])
        var boundary = m.nextBoundary(now: at(5))
        XCTAssertEqual(boundary.failed, [.init(id: "hurried", failure: .deadlineExceeded)])
        boundary = m.nextBoundary(now: at(10))
        XCTAssertEqual(boundary.failed, [.init(id: "patient", failure: .deadlineExceeded)])
        XCTAssertEqual(boundary.work, .step(model: 0, ids: ["running"]))
        // A running job's own deadline applies too.
        boundary = m.nextBoundary(now: at(20))
        XCTAssertEqual(boundary.failed, [.init(id: "running", failure: .deadlineExceeded)])
        XCTAssertEqual(boundary.work, .idle)
        XCTAssertEqual(m.runningCount, 0)
    }

    func testDrainFinishesTheWorkThenStops() {
        var m = machine(batch: 1)
        _ = m.submit(id: "a", model: 0, deadline: nil, now: at(0))
        _ = m.submit(id: "b", model: 0, deadline: nil, now: at(0))
        _ = m.nextBoundary(now: at(0))
        m.beginDrain(deadline: at(100))
        XCTAssertFalse(m.isAccepting)
        XCTAssertEqual(m.submit(id: "c", model: 0, deadline: nil, now: at(1)), .shuttingDown)
        m.finish(model: 0, ids: ["a"])
        let boundary = m.nextBoundary(now: at(2))
        XCTAssertEqual(boundary.started, ["b"])
        XCTAssertEqual(boundary.work, .step(model: 0, ids: ["b"]))
        m.finish(model: 0, ids: ["b"])
        XCTAssertEqual(m.nextBoundary(now: at(3)).work, .stop)
        XCTAssertTrue(m.isStopped)
        XCTAssertEqual(m.nextBoundary(now: at(4)).work, .stop)
    }

    func testDrainDeadlineFailsTheRest() {
        var m = machine(batch: 1)
        _ = m.submit(id: "a", model: 0, deadline: nil, now: at(0))
        _ = m.submit(id: "b", model: 0, deadline: nil, now: at(0))
        _ = m.nextBoundary(now: at(0))
        m.beginDrain(deadline: at(10))
        m.beginDrain(deadline: at(50))  // cannot move it later
        XCTAssertEqual(m.nextBoundary(now: at(5)).work, .step(model: 0, ids: ["a"]))
        let boundary = m.nextBoundary(now: at(10))
        XCTAssertEqual(
            boundary.failed, [.init(id: "a", failure: .shuttingDown), .init(id: "b", failure: .shuttingDown)])
        XCTAssertEqual(boundary.work, .stop)
        XCTAssertEqual(m.runningCount, 0)
        XCTAssertEqual(m.queueDepth, 0)
    }

    func testStopNowFailsEverything() {
        var m = machine(batch: 1)
        _ = m.submit(id: "a", model: 0, deadline: nil, now: at(0))
        _ = m.submit(id: "b", model: 0, deadline: nil, now: at(0))
        _ = m.nextBoundary(now: at(0))
        XCTAssertEqual(m.stopNow().map(\.id), ["a", "b"])
        XCTAssertEqual(m.nextBoundary(now: at(1)).work, .stop)
        XCTAssertEqual(m.submit(id: "c", model: 0, deadline: nil, now: at(1)), .shuttingDown)
    }

    func testIdleDrainStopsAtOnce() {
        var m = machine()
        XCTAssertEqual(m.nextBoundary(now: at(0)).work, .idle)
        m.beginDrain(deadline: at(100))
        XCTAssertEqual(m.nextBoundary(now: at(0)).work, .stop)
    }
}
