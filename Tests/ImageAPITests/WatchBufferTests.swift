import ENAT
import HTTPServer
import LockedValue
import ModelBundle
import Scheduler
import XCTest

@testable import ImageAPI

/// A stream whose client reads slowly holds at most the newest frame of each job; the final
/// image and every step's progress still arrive.
final class WatchBufferTests: XCTestCase {
    private func step(_ number: Int, frame: Bool) -> GenerationEvent {
        .step(StepProgress(step: number, steps: 4, revealed: number * 4, tokenCount: 16, previewPNG: frame ? [UInt8(number)] : nil))
    }

    private let result = GenerationResult(png: [9, 9], tokens: [1], seed: 1, queueSeconds: 0, runSeconds: 0)

    /// Every item until the sequence ends, or a failure after `timeout`.
    private func readAll(_ items: WatchBuffer.Items, timeout: Duration = .seconds(30)) async -> [WatchItem] {
        let collected = Locked<[WatchItem]>([])
        let reader = Task {
            for await item in items { collected.withLock { $0.append(item) } }
        }
        let watchdog = Task {
            try await Task.sleep(for: timeout)
            reader.cancel()
            XCTFail("the sequence did not end within \(timeout)")
        }
        await reader.value
        watchdog.cancel()
        return collected.withLock { $0 }
    }

    /// (job index, step, has frame) of the step items; "completed i", "ping", "gone" for others.
    private func describe(_ items: [WatchItem]) -> [String] {
        items.map { item in
            switch item {
            case .event(let index, .step(let progress)): "\(index) step \(progress.step)\(progress.previewPNG == nil ? "" : " frame")"
            case .event(let index, .completed): "\(index) completed"
            case .event(let index, let event): "\(index) \(event)"
            case .ping: "ping"
            case .clientGone: "gone"
            }
        }
    }

    func testAReaderThatIsBehindGetsOnlyTheNewestFrameAndTheFinalImage() async {
        let dropped = Locked(0)
        let (buffer, items) = WatchBuffer.make { dropped.withLock { $0 += 1 } }
        buffer.push(.event(index: 0, .started))
        for number in 1...4 { buffer.push(.event(index: 0, step(number, frame: true))) }
        buffer.push(.event(index: 0, .completed(result)))
        buffer.finish()
        let read = await readAll(items)
        XCTAssertEqual(
            describe(read),
            ["0 started", "0 step 1", "0 step 2", "0 step 3", "0 step 4 frame", "0 completed"])
        XCTAssertEqual(dropped.withLock { $0 }, 3)
    }

    func testAReaderThatKeepsUpGetsEveryFrame() async {
        let dropped = Locked(0)
        let (buffer, items) = WatchBuffer.make { dropped.withLock { $0 += 1 } }
        var iterator = items.makeAsyncIterator()
        var seen: [WatchItem] = []
        for number in 1...4 {
            buffer.push(.event(index: 0, step(number, frame: true)))
            if let item = await iterator.next() { seen.append(item) }
        }
        XCTAssertEqual(describe(seen), ["0 step 1 frame", "0 step 2 frame", "0 step 3 frame", "0 step 4 frame"])
        XCTAssertEqual(dropped.withLock { $0 }, 0)
    }

    func testFramesOfOneJobDoNotReplaceAnotherJobsAndPingsDoNotQueueUp() async {
        let (buffer, items) = WatchBuffer.make()
        buffer.push(.event(index: 0, step(1, frame: true)))
        buffer.push(.ping)
        buffer.push(.event(index: 1, step(1, frame: true)))
        buffer.push(.ping)
        buffer.push(.event(index: 0, step(2, frame: false)))
        buffer.push(.event(index: 1, step(2, frame: true)))
        buffer.push(.clientGone)
        XCTAssertEqual(items.pendingCount, 6)
        buffer.finish()
        let read = await readAll(items)
        XCTAssertEqual(
            describe(read), ["0 step 1 frame", "ping", "1 step 1", "0 step 2", "1 step 2 frame", "gone"])
    }

    func testReaderThatStopsEndsTheProducersTermination() async {
        let (buffer, items) = WatchBuffer.make()
        let terminated = Locked(false)
        buffer.onTermination { terminated.withLock { $0 = true } }
        buffer.push(.ping)
        do {
            var iterator = items.makeAsyncIterator()
            _ = await iterator.next()
        }
        // `items` and its iterator are gone; the producers keep the buffer, yet the stream ended.
        _ = consume items
        XCTAssertTrue(terminated.withLock { $0 })
        buffer.push(.ping)  // a late producer is harmless
    }

    /// The whole path with the real scheduler: a multipart stream whose writer was blocked for
    /// the whole job sends one frame and the final image.
    func testMergedJobEventsForASlowMultipartReader() async throws {
        let scheduler = GenerationScheduler(models: [try TestModels.classModel()], configuration: .init(blasThreads: 1))
        let steps = 6
        let job = try scheduler.submit(
            GenerationRequest(
                model: "tiny-class", condition: .classLabel(1), seed: 3, settings: .init(steps: steps), preview: .mosaic))
        let dropped = Locked(0)
        let items = JobEventMerger.merge([job], pingInterval: nil, context: RequestContext()) { dropped.withLock { $0 += 1 } }
        scheduler.start()
        // queued, started, every step, completed: all pushed while nobody reads.
        let end = ContinuousClock.now + .seconds(30)
        while items.pendingCount < steps + 3, ContinuousClock.now < end { try await Task.sleep(for: .milliseconds(5)) }
        XCTAssertEqual(items.pendingCount, steps + 3)
        let all = await readAll(items)

        let stepItems = all.compactMap { item -> StepProgress? in
            if case .event(_, .step(let progress)) = item { progress } else { nil }
        }
        XCTAssertEqual(stepItems.map(\.step), Array(1...steps), "every step's progress is kept")
        XCTAssertEqual(stepItems.map { $0.previewPNG != nil }, Array(repeating: false, count: steps - 1) + [true])
        XCTAssertEqual(dropped.withLock { $0 }, steps - 1)

        var encoder = JobStreamEncoder(format: .multipart, jobID: job.id, steps: steps)
        var body = encoder.opening()
        for case .event(_, let event) in all { body += encoder.encode(event) }
        let text = String(decoding: body, as: UTF8.self)
        XCTAssertEqual(text.components(separatedBy: "Content-Type: image/png").count - 1, 2, "the newest frame and the final image")
        let png = try XCTUnwrap(job.result?.png)
        XCTAssertTrue(body.ends(with: MultipartFraming.part(contentType: "image/png", body: png, last: true)))
    }
}

extension [UInt8] {
    fileprivate func ends(with suffix: [UInt8]) -> Bool {
        count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix
    }
}
