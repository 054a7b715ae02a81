import XCTest

@testable import Scheduler

/// Finished jobs are kept for lookup within three bounds (time, count, bytes), and forgotten
/// by the inference thread itself, not only when a client next submits or looks one up.
final class GenerationSchedulerRetentionTests: XCTestCase {
    func configuration(retention: Duration = .seconds(600), jobs: Int = 1000, bytes: Int = 1 << 30) -> SchedulerConfiguration {
        SchedulerConfiguration(
            maxBatchSize: 4, maxQueueLength: 16, blasThreads: 1, jobRetention: retention, maxRetainedJobs: jobs,
            maxRetainedBytes: bytes)
    }

    /// Runs `count` jobs (one batch, finishing together in submission order) to completion.
    func runJobs(_ scheduler: GenerationScheduler, count: Int) async throws -> [GenerationJob] {
        let jobs = try (0..<count).map { try scheduler.submit(request(seed: UInt64($0 + 1))) }
        let streams = jobs.map { $0.events() }
        scheduler.start()
        for stream in streams {
            let history = await events(stream)
            XCTAssertNotNil(history.result)
        }
        return jobs
    }

    func bytes(of job: GenerationJob) throws -> Int {
        let result = try XCTUnwrap(job.result)
        return JobRetention.jobOverheadBytes + result.png.count + result.tokens.count * 4
    }

    func testExpiredJobsAreForgottenWithoutAnyRequest() async throws {
        let clock = ManualClock()
        let scheduler = GenerationScheduler(
            models: [try TestModels.model()], configuration: configuration(), clock: clock.scheduler)
        let jobs = try await runJobs(scheduler, count: 2)
        var metrics = scheduler.metrics
        XCTAssertEqual(metrics.retainedJobs, 2)
        XCTAssertEqual(metrics.retainedBytes, try bytes(of: jobs[0]) + bytes(of: jobs[1]))

        clock.advance(by: .seconds(601))
        // Reading metrics forgets nothing by itself: the idle inference thread wakes and does it,
        // at once (the clock's jump wakes it), not at its next periodic check a second later.
        await waitUntil(timeout: .milliseconds(300)) { scheduler.metrics.retainedJobs == 0 }
        metrics = scheduler.metrics
        XCTAssertEqual(metrics.retainedBytes, 0)
        XCTAssertEqual(metrics.retentionEvictions, ["expired": 2, "count": 0, "bytes": 0])
        XCTAssertNil(scheduler.job(id: jobs[0].id))
        XCTAssertNotNil(jobs[0].result, "a reader still holding the job keeps its image")
    }

    func testJobsStayUntilTheirRetentionEnds() async throws {
        let clock = ManualClock()
        let scheduler = GenerationScheduler(
            models: [try TestModels.model()], configuration: configuration(), clock: clock.scheduler)
        let jobs = try await runJobs(scheduler, count: 1)
        clock.advance(by: .seconds(599))
        XCTAssertNotNil(scheduler.job(id: jobs[0].id), "a lookup forgets only what expired")
        clock.advance(by: .seconds(1))
        XCTAssertNil(scheduler.job(id: jobs[0].id))
    }

    func testCountBoundForgetsTheOldestFinishedJobs() async throws {
        let scheduler = GenerationScheduler(models: [try TestModels.model()], configuration: configuration(jobs: 2))
        let jobs = try await runJobs(scheduler, count: 4)
        XCTAssertEqual(jobs.map { scheduler.job(id: $0.id) != nil }, [false, false, true, true])
        let metrics = scheduler.metrics
        XCTAssertEqual(metrics.retainedJobs, 2)
        XCTAssertEqual(metrics.retainedBytes, try bytes(of: jobs[2]) + bytes(of: jobs[3]))
        XCTAssertEqual(metrics.retentionEvictions["count"], 2)
    }

    func testByteBoundForgetsTheOldestFinishedJobs() async throws {
        // Room for two jobs of the tiny model, not three (their images are far smaller than the allowance).
        let bound = 5 * JobRetention.jobOverheadBytes / 2
        let scheduler = GenerationScheduler(models: [try TestModels.model()], configuration: configuration(bytes: bound))
        let jobs = try await runJobs(scheduler, count: 4)
        let kept = jobs.filter { scheduler.job(id: $0.id) != nil }
        let metrics = scheduler.metrics
        XCTAssertEqual(kept.map(\.id), jobs.suffix(kept.count).map(\.id), "the newest are kept")
        XCTAssertEqual(metrics.retainedJobs, kept.count)
        XCTAssertEqual(metrics.retainedBytes, try kept.map(bytes(of:)).reduce(0, +))
        XCTAssertLessThanOrEqual(metrics.retainedBytes, bound)
        XCTAssertGreaterThan(metrics.retainedBytes + (try bytes(of: jobs[0])), bound, "no room for one more")
        XCTAssertEqual(metrics.retentionEvictions["bytes"], 4 - kept.count)
    }

    func testCancelledAndFailedJobsAreRetainedToo() async throws {
        let scheduler = GenerationScheduler(models: [try TestModels.model()], configuration: configuration())
        let queued = try scheduler.submit(request())
        queued.cancel()
        XCTAssertEqual(queued.status.state, .cancelled)
        XCTAssertNotNil(scheduler.job(id: queued.id))
        XCTAssertEqual(scheduler.metrics.retainedJobs, 1)
        XCTAssertEqual(scheduler.metrics.retainedBytes, JobRetention.jobOverheadBytes)
    }
}
