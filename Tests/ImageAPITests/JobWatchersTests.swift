import ENAT
import ModelBundle
import Scheduler
import XCTest

@testable import ImageAPI

/// A job created for its watchers is cancelled when the last of them disconnects, and only then.
final class JobWatchersTests: XCTestCase {
    /// Never started: jobs stay queued, so a cancellation is the only thing that changes them.
    private static let scheduler = GenerationScheduler(
        models: [try! TestModels.classModel()], configuration: .init(maxQueueLength: 64, blasThreads: 1))

    private func job() throws -> GenerationJob {
        try Self.scheduler.submit(GenerationRequest(model: "tiny-class", condition: .classLabel(1), seed: 1, settings: .init(steps: 2)))
    }

    private func isCancelled(_ job: GenerationJob) -> Bool {
        eventually(timeout: 2) { job.status.state == .cancelled }
    }

    func testLastDisconnectingWatcherCancelsAnOwnedJob() throws {
        let job = try job()
        let watchers = JobWatchers()
        let creator = watchers.watch(job, owning: true)
        let reattached = watchers.watch(job, owning: false)
        XCTAssertEqual(watchers.watcherCount(job.id), 2)
        creator.end(disconnected: true)
        creator.end(disconnected: true)  // idempotent
        XCTAssertEqual(watchers.watcherCount(job.id), 1)
        XCTAssertEqual(job.status.state, .queued, "someone is still watching")
        reattached.end(disconnected: true)
        XCTAssertTrue(isCancelled(job))
        XCTAssertEqual(watchers.watcherCount(job.id), 0)
    }

    func testWatchersThatFinishOrDoNotOwnLeaveTheJobAlone() throws {
        let watchers = JobWatchers()
        let finished = try job()
        watchers.watch(finished, owning: true).end(disconnected: false)
        let unowned = try job()
        watchers.watch(unowned, owning: false).end(disconnected: true)
        XCTAssertFalse(isCancelled(finished))
        XCTAssertFalse(isCancelled(unowned))
        finished.cancel()
        unowned.cancel()
    }
}
