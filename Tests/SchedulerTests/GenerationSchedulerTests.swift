import ENAT
import ModelBundle
import XCTest

@testable import Scheduler

/// The scheduler with its real inference thread and tiny random models. Waits poll with
/// generous limits; orderings that matter are made deterministic by submitting before `start()`.
final class GenerationSchedulerTests: XCTestCase {
    func configuration(
        batch: Int = 4, queue: Int = 16, wait: Duration = .seconds(120), retention: Duration = .seconds(600)
    ) -> SchedulerConfiguration {
        SchedulerConfiguration(
            maxBatchSize: batch, maxQueueLength: queue, maxQueueWait: wait, blasThreads: 1, jobRetention: retention)
    }

    /// A job that runs long enough to be caught mid-run: 64 steps, each with a full decode.
    func longRequest(seed: UInt64 = 5) -> GenerationRequest {
        request(steps: 64, seed: seed, preview: .full)
    }

    func testNewJobsJoinTheRunningBatchAndKeepTheirTokens() async throws {
        let model = try TestModels.model()
        let expected = [
            try TestModels.tokensAlone(model, label: 0, steps: 2, seed: 11),
            try TestModels.tokensAlone(model, label: 1, steps: 6, seed: 22),
            try TestModels.tokensAlone(model, label: 2, steps: 4, seed: 33),
        ]
        let scheduler = GenerationScheduler(models: [model], configuration: configuration(batch: 2))
        let jobs = try [
            scheduler.submit(request(label: 0, steps: 2, seed: 11)),
            scheduler.submit(request(label: 1, steps: 6, seed: 22)),
            scheduler.submit(request(label: 2, steps: 4, seed: 33)),
        ]
        let streams = jobs.map { $0.events() }
        scheduler.start()
        var results: [[GenerationEvent]] = []
        for stream in streams { results.append(await events(stream)) }

        for (index, history) in results.enumerated() {
            XCTAssertEqual(history.result?.tokens, expected[index], "job \(index)")
            XCTAssertEqual(history.result?.seed, [11, 22, 33][index])
        }
        // The third job waited for a slot, then joined the second one mid-run: no waiting for the
        // whole batch. Calls 1-2: jobs 0+1 at steps 0, 1; calls 3-6: job 1 at 2...5 with job 2 at 0...3.
        XCTAssertEqual(results[2].first, .queued(position: 2))
        XCTAssertEqual(Array(results[2].prefix(3)), [.queued(position: 2), .queued(position: 0), .started])
        XCTAssertEqual(results[2].steps.map(\.step), [1, 2, 3, 4])
        let metrics = scheduler.metrics
        XCTAssertEqual(metrics.stepsRun, 6)
        XCTAssertEqual(metrics.mixedStepBatches, 4)
        XCTAssertEqual(metrics.sampleSteps, 12)
        XCTAssertEqual(metrics.imagesCompleted, 3)
        XCTAssertEqual(metrics.jobsSubmitted, 3)
        XCTAssertEqual(metrics.batchSize.count, 6)
        XCTAssertEqual(metrics.batchSize.sum, 12)
        XCTAssertEqual(metrics.stepSeconds.count, 6)
        XCTAssertEqual(metrics.queueSeconds.count, 3)
        XCTAssertEqual(metrics.timeToFirstFrameSeconds.count, 3)
        XCTAssertEqual(metrics.lastBatchSize, 2)
        XCTAssertEqual(metrics.runningSamples, 0)
        XCTAssertEqual(metrics.queueDepth, 0)
        // The final images are the model's own rendering of those tokens.
        XCTAssertEqual(results[0].result?.png, try model.renderFinalPNGs([expected[0]])[0])
    }

    func testLateSubmissionJoinsARunningJob() async throws {
        let model = try TestModels.model()
        let expected = try TestModels.tokensAlone(model, label: 3, steps: 4, seed: 44)
        let scheduler = GenerationScheduler(models: [model], configuration: configuration())
        let long = try scheduler.submit(longRequest())
        scheduler.start()
        await waitUntil { long.status.step >= 1 }
        let late = try scheduler.submit(request(label: 3, steps: 4, seed: 44))
        let history = await allEvents(of: late)
        XCTAssertEqual(history.result?.tokens, expected)
        // It ran beside the long job (64 slow steps), which was at a later step.
        XCTAssertGreaterThan(scheduler.metrics.mixedStepBatches, 0)
        XCTAssertEqual(long.status.state, .running)
        long.cancel()
        _ = await allEvents(of: long)
    }

    func testModelsTakeTurns() async throws {
        let first = try TestModels.model(id: "first", seed: 1)
        let second = try TestModels.model(id: "second", seed: 2)
        let expected = [
            try TestModels.tokensAlone(first, label: 1, steps: 3, seed: 7),
            try TestModels.tokensAlone(second, label: 1, steps: 3, seed: 7),
        ]
        let scheduler = GenerationScheduler(models: [first, second], configuration: configuration())
        XCTAssertTrue(scheduler.model(id: "second") === second)
        let jobs = try [
            scheduler.submit(request(model: "first", label: 1, steps: 3, seed: 7)),
            scheduler.submit(request(model: "second", label: 1, steps: 3, seed: 7)),
        ]
        scheduler.start()
        for (index, job) in jobs.enumerated() {
            let history = await allEvents(of: job)
            XCTAssertEqual(history.result?.tokens, expected[index])
        }
        XCTAssertNotEqual(expected[0], expected[1])
        // One engine call per model per step: models never share a call.
        XCTAssertEqual(scheduler.metrics.stepsRun, 6)
        XCTAssertEqual(scheduler.metrics.mixedStepBatches, 0)
    }

    func testPreviewFramesOnlyAtRequestedSteps() async throws {
        let scheduler = GenerationScheduler(models: [try TestModels.model()], configuration: configuration())
        let some = try scheduler.submit(request(steps: 4, preview: .mosaic, previewSteps: [0, 2]))
        let none = try scheduler.submit(request(steps: 4, preview: .none))
        let every = try scheduler.submit(request(steps: 4, preview: .full))
        let streams = [some, none, every].map { $0.events() }
        scheduler.start()
        var histories: [[GenerationEvent]] = []
        for stream in streams { histories.append(await events(stream)) }

        let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47]
        XCTAssertEqual(histories[0].steps.map { $0.previewPNG != nil }, [true, false, true, false])
        XCTAssertEqual(histories[0].steps.first?.previewPNG.map { Array($0.prefix(4)) }, pngSignature)
        XCTAssertEqual(histories[1].steps.map { $0.previewPNG != nil }, [false, false, false, false])
        XCTAssertEqual(histories[2].steps.map { $0.previewPNG != nil }, [true, true, true, true])
        let progress = histories[1].steps
        XCTAssertEqual(progress.map(\.steps), [4, 4, 4, 4])
        XCTAssertEqual(progress.last?.revealed, 16)
        XCTAssertEqual(progress.last?.tokenCount, 16)
        XCTAssertEqual(histories[1].result.map { Array($0.png.prefix(4)) }, pngSignature)
    }

    func testCancellingARunningJobStopsItWithinOneStep() async throws {
        let scheduler = GenerationScheduler(models: [try TestModels.model()], configuration: configuration())
        let job = try scheduler.submit(longRequest())
        let stream = job.events()
        scheduler.start()
        await waitUntil { job.status.step >= 1 }
        let stepAtCancel = job.status.step
        job.cancel()
        let history = await events(stream)
        XCTAssertEqual(history.last, .failed(.cancelled))
        XCTAssertLessThanOrEqual(history.steps.count, stepAtCancel + 1)
        XCTAssertEqual(job.status.state, .cancelled)
        XCTAssertNil(job.result)
        await waitUntil { scheduler.metrics.runningSamples == 0 }
        XCTAssertEqual(scheduler.metrics.failures["cancelled"], 1)
        // The slot is free again.
        let next = try scheduler.submit(request())
        let nextHistory = await allEvents(of: next)
        XCTAssertNotNil(nextHistory.result)
    }

    func testCancellingAQueuedJobRemovesItAtOnce() throws {
        let scheduler = GenerationScheduler(models: [try TestModels.model()], configuration: configuration())
        let first = try scheduler.submit(request())
        let second = try scheduler.submit(request())
        let third = try scheduler.submit(request())
        XCTAssertEqual(third.status.queuePosition, 2)
        second.cancel()
        XCTAssertEqual(second.status.state, .cancelled)
        XCTAssertEqual(third.status.queuePosition, 1)
        XCTAssertEqual(first.status.queuePosition, 0)
        XCTAssertEqual(scheduler.metrics.queueDepth, 2)
        XCTAssertEqual(scheduler.metrics.failures["cancelled"], 1)
        second.cancel()  // again: nothing
        XCTAssertEqual(scheduler.metrics.failures["cancelled"], 1)
    }

    func testFullQueueRefusesWithARetryEstimate() throws {
        let scheduler = GenerationScheduler(models: [try TestModels.model()], configuration: configuration(queue: 2))
        _ = try scheduler.submit(request())
        _ = try scheduler.submit(request())
        XCTAssertThrowsError(try scheduler.submit(request())) { error in
            guard case .queueFull(let retryAfter) = error as? SubmitError else {
                return XCTFail("expected queueFull, got \(error)")
            }
            XCTAssertGreaterThanOrEqual(retryAfter, .seconds(1))
        }
        XCTAssertEqual(scheduler.metrics.rejections["queue_full"], 1)
        XCTAssertEqual(scheduler.metrics.queueDepth, 2)
        XCTAssertFalse(scheduler.isReady)
    }

    func testReadiness() async throws {
        let scheduler = GenerationScheduler(models: [try TestModels.model()], configuration: configuration())
        XCTAssertEqual(scheduler.notReadyReason, "model loading")
        scheduler.start()
        scheduler.start()  // once only
        XCTAssertTrue(scheduler.isReady)
        XCTAssertNil(scheduler.notReadyReason)
        await scheduler.drain(deadline: .now + .seconds(30))
        XCTAssertEqual(scheduler.notReadyReason, "draining")
        XCTAssertFalse(scheduler.isReady)
    }

    func testValidation() throws {
        let scheduler = GenerationScheduler(models: [try TestModels.model()], configuration: configuration())
        func rejects(_ request: GenerationRequest, _ expected: SubmitError, line: UInt = #line) {
            XCTAssertThrowsError(try scheduler.submit(request), line: line) { error in
                XCTAssertEqual(error as? SubmitError, expected, line: line)
            }
        }
        XCTAssertThrowsError(try scheduler.submit(request(model: "nope"))) { error in
            XCTAssertEqual(error as? SubmitError, .unknownModel("nope"))
        }
        let limits = SamplerLimits.engine
        rejects(request(steps: 0), .invalidSetting(model: "tiny", .steps(0, allowed: limits.steps)))
        rejects(request(steps: 65), .invalidSetting(model: "tiny", .steps(65, allowed: limits.steps)))
        rejects(request(label: 4), .invalidSetting(model: "tiny", .classLabel(4, allowed: 0..<4)))
        rejects(request(label: -1), .invalidSetting(model: "tiny", .classLabel(-1, allowed: 0..<4)))
        rejects(request(steps: 4, preview: .mosaic, previewSteps: [4]), .previewStep(4, steps: 4))
        var bad = request()
        bad.settings.guidanceScale = 51
        rejects(bad, .invalidSetting(model: "tiny", .guidanceScale(51, allowed: limits.guidanceScale)))
        bad = request()
        bad.settings.sampleTemperature = -1
        rejects(bad, .invalidSetting(model: "tiny", .sampleTemperature(-1, allowed: limits.sampleTemperature)))
        bad = request()
        bad.settings.maskTemperature = .infinity
        rejects(bad, .invalidSetting(model: "tiny", .maskTemperature(.infinity, allowed: limits.maskTemperature)))
        bad = request()
        bad.condition = .caption("a red circle")
        rejects(bad, .conditionMismatch(model: "tiny", takes: .classConditional))
        XCTAssertEqual(scheduler.metrics.rejections["invalid"], 9)
        XCTAssertEqual(scheduler.metrics.rejections["unknown_model"], 1)
        XCTAssertEqual(scheduler.metrics.queueDepth, 0)
    }

    func testPastDeadlineFailsWithoutRunning() async throws {
        let scheduler = GenerationScheduler(models: [try TestModels.model()], configuration: configuration())
        let job = try scheduler.submit(request(deadline: .now - .seconds(1)))
        scheduler.start()
        let history = await allEvents(of: job)
        XCTAssertEqual(history, [.queued(position: 0), .failed(.deadlineExceeded)])
        XCTAssertEqual(scheduler.metrics.failures["deadline_exceeded"], 1)
    }

    func testQueueWaitExpires() async throws {
        let clock = ManualClock()
        let scheduler = GenerationScheduler(
            models: [try TestModels.model()], configuration: configuration(wait: .seconds(120)), clock: clock.scheduler)
        let expiring = try scheduler.submit(request(seed: 1))
        clock.advance(by: .seconds(60))
        let waiting = try scheduler.submit(request(seed: 2))
        // The allowed wait passes for the first job only, before the thread looks at the queue.
        clock.advance(by: .seconds(60))
        scheduler.start()
        let history = await allEvents(of: expiring)
        XCTAssertEqual(history.last, .failed(.deadlineExceeded))
        XCTAssertFalse(history.contains(.started))
        let other = await allEvents(of: waiting)
        XCTAssertNotNil(other.result, "60 s of its 120 s were left")
    }

    func testDrainFinishesRunningAndQueuedJobs() async throws {
        let scheduler = GenerationScheduler(models: [try TestModels.model()], configuration: configuration(batch: 1))
        let jobs = try (0..<3).map { try scheduler.submit(request(seed: UInt64($0))) }
        scheduler.start()
        await scheduler.drain(deadline: .now + .seconds(60))
        for job in jobs { XCTAssertEqual(job.status.state, .succeeded) }
        XCTAssertThrowsError(try scheduler.submit(request())) { error in
            XCTAssertEqual(error as? SubmitError, .shuttingDown)
        }
        XCTAssertEqual(scheduler.metrics.rejections["shutting_down"], 1)
        await scheduler.drain(deadline: .now + .seconds(60))  // again: returns at once
        scheduler.start()  // after a drain: nothing
        XCTAssertEqual(scheduler.notReadyReason, "draining")
    }

    func testDrainDeadlineFailsTheRest() async throws {
        let scheduler = GenerationScheduler(models: [try TestModels.model()], configuration: configuration(batch: 1))
        let running = try scheduler.submit(longRequest())
        let queued = try scheduler.submit(request())
        scheduler.start()
        await waitUntil { running.status.step >= 1 }
        await scheduler.drain(deadline: .now)
        XCTAssertEqual(running.status.failure, .shuttingDown)
        XCTAssertEqual(queued.status.failure, .shuttingDown)
        let history = await allEvents(of: running)
        XCTAssertEqual(history.last, .failed(.shuttingDown))
        XCTAssertEqual(scheduler.metrics.failures["shutting_down"], 2)
    }

    func testDrainBeforeStartFailsQueuedJobs() async throws {
        let scheduler = GenerationScheduler(models: [try TestModels.model()], configuration: configuration())
        let job = try scheduler.submit(request())
        await scheduler.drain(deadline: .now + .seconds(60))
        XCTAssertEqual(job.status.failure, .shuttingDown)
        scheduler.start()
        XCTAssertEqual(scheduler.notReadyReason, "draining")
    }

    func testEventsReplayOnReattach() async throws {
        let scheduler = GenerationScheduler(models: [try TestModels.model()], configuration: configuration())
        let job = try scheduler.submit(request(steps: 3))
        let early = job.events()
        scheduler.start()
        let live = await events(early)
        XCTAssertEqual(live.count, 6)  // queued, started, 3 steps, completed
        XCTAssertEqual(Array(live.prefix(2)), [.queued(position: 0), .started])
        XCTAssertEqual(live.steps.map(\.step), [1, 2, 3])
        XCTAssertNotNil(live.result)
        let found = try XCTUnwrap(scheduler.job(id: job.id))
        XCTAssertTrue(found === job)
        let first = await allEvents(of: found)
        let second = await allEvents(of: found)
        XCTAssertEqual(first, live)
        XCTAssertEqual(second, live)
        XCTAssertEqual(found.status.state, .succeeded)
        XCTAssertEqual(found.status.step, 3)
        XCTAssertNil(found.status.queuePosition)
    }

    func testFinishedJobsAreForgottenAfterTheirRetention() async throws {
        let clock = ManualClock()
        let scheduler = GenerationScheduler(
            models: [try TestModels.model()], configuration: configuration(retention: .seconds(10)), clock: clock.scheduler)
        let job = try scheduler.submit(request())
        scheduler.start()
        _ = await allEvents(of: job)
        clock.advance(by: .seconds(9))
        XCTAssertNotNil(scheduler.job(id: job.id))
        clock.advance(by: .seconds(1))
        XCTAssertNil(scheduler.job(id: job.id))
        XCTAssertNil(scheduler.job(id: "job_unknown"))
    }

    func testDroppingTheSchedulerFailsItsJobs() async throws {
        var scheduler: GenerationScheduler? = GenerationScheduler(
            models: [try TestModels.model()], configuration: configuration())
        let job = try XCTUnwrap(scheduler).submit(longRequest())
        let stream = job.events()
        scheduler?.start()
        await waitUntil { job.status.step >= 1 }
        scheduler = nil
        let history = await events(stream)
        XCTAssertEqual(history.last, .failed(.shuttingDown))
    }
}
