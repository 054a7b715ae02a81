import ENAT
import LockedValue
import ModelBundle
import XCTest

@testable import Scheduler

final class GenerationJobTests: XCTestCase {
    func makeJob(cancelled: Locked<[String]> = Locked([])) -> GenerationJob {
        let request = GenerationRequest(
            model: "m", condition: .classLabel(1), seed: 7, settings: SamplerSettings(steps: 2), preview: .mosaic)
        return GenerationJob(id: GenerationJob.makeID(), request: request) { id in cancelled.withLock { $0.append(id) } }
    }

    func progress(_ step: Int, frame: [UInt8]? = [1, 2]) -> StepProgress {
        StepProgress(step: step, steps: 2, revealed: step, tokenCount: 2, previewPNG: frame)
    }

    func collect(_ stream: AsyncStream<GenerationEvent>) async -> [GenerationEvent] {
        var events: [GenerationEvent] = []
        for await event in stream { events.append(event) }
        return events
    }

    func testIDsAreRandomHex() {
        let id = GenerationJob.makeID()
        XCTAssertTrue(id.hasPrefix("job_"))
        XCTAssertEqual(id.count, 36, "job_ and 128 random bits in hex")
        XCTAssertTrue(id.dropFirst(4).allSatisfy(\.isHexDigit))
        XCTAssertNotEqual(id, GenerationJob.makeID())
    }

    func testReadersReplayHistoryThenFollowLive() async {
        let job = makeJob()
        let t0 = ContinuousClock.now
        job.updateQueuePosition(1)
        job.updateQueuePosition(1)  // unchanged: no event
        job.updateQueuePosition(0)
        let early = job.events()
        job.markStarted(at: t0)
        job.updateQueuePosition(3)  // too late: ignored
        XCTAssertTrue(job.publishStep(progress(1)))
        let middle = job.events()
        XCTAssertFalse(job.publishStep(progress(2)))
        XCTAssertEqual(job.status.state, .running)
        XCTAssertEqual(job.status.step, 2)
        job.complete(png: [9], tokens: [1, 2], at: t0 + .seconds(1))
        job.fail(.cancelled)  // too late: ignored

        let expected: [GenerationEvent] = [
            .queued(position: 1), .queued(position: 0), .started, .step(progress(1)), .step(progress(2)),
            .completed(job.result!),
        ]
        let earlyEvents = await collect(early)
        let middleEvents = await collect(middle)
        XCTAssertEqual(earlyEvents, expected)
        XCTAssertEqual(middleEvents, expected)
        // After the end, replays carry no preview frames.
        let late = await collect(job.events())
        XCTAssertEqual(late.count, expected.count)
        XCTAssertEqual(late[3], .step(progress(1, frame: nil)))
        XCTAssertEqual(job.status.state, .succeeded)
        XCTAssertEqual(job.result?.runSeconds ?? 0, 1, accuracy: 1e-9)
        XCTAssertEqual(job.result?.seed, 7)
    }

    func testFailureEndsTheStreamAndSetsTheState() async {
        let cancelled = Locked<[String]>([])
        let job = makeJob(cancelled: cancelled)
        job.updateQueuePosition(0)
        let stream = job.events()
        job.cancel()
        XCTAssertEqual(cancelled.withLock { $0 }, [job.id])
        XCTAssertTrue(job.fail(.cancelled))
        XCTAssertFalse(job.fail(.engine("late")))
        let events = await collect(stream)
        XCTAssertEqual(events, [.queued(position: 0), .failed(.cancelled)])
        XCTAssertEqual(job.status.state, .cancelled)
        XCTAssertEqual(job.status.failure, .cancelled)
        XCTAssertNil(job.status.queuePosition)
        job.markStarted(at: .now)
        XCTAssertEqual(job.status.state, .cancelled)
    }

    func testAbandonedReadersAreDropped() async {
        let job = makeJob()
        job.updateQueuePosition(0)
        let task = Task {
            var count = 0
            for await _ in job.events() { count += 1 }
            return count
        }
        task.cancel()
        _ = await task.value
        // Publishing after the reader left must not trap or leak it.
        job.markStarted(at: .now)
        job.fail(.shuttingDown)
        XCTAssertEqual(job.status.state, .failed)
    }
}
