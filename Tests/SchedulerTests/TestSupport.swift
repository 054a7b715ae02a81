import ENAT
import Foundation
import LockedValue
import ModelBundle
import VQGAN
import XCTest

@testable import Scheduler

/// Small random models: fast enough that a test runs whole jobs in well under a second.
enum TestModels {
    /// 4 x 4 tokens, 64 codes, 4 classes, 16 px.
    static func configuration(id: String) -> BundleConfiguration {
        BundleConfiguration(
            id: id, kind: .classConditional, description: "scheduler tests", resolution: 16,
            transformer: ENATConfiguration(
                latentSize: 4, hiddenSize: 32, numHeads: 2, encoderDepth: 1, decoderDepth: 1, codebookSize: 64,
                numClasses: 4),
            vqgan: VQGANConfiguration(
                ch: 32, chMult: [1, 1, 2], numResBlocks: 1, zChannels: 32, embedDim: 32, nEmbed: 64, outCh: 3,
                resolution: 16),
            sampler: SamplerSettings(steps: 4, guidanceScale: 2, maskTemperature: 1.5, sampleTemperature: 3),
            classNames: ["circle", "square", "triangle", "star"])
    }

    static func model(id: String = "tiny", seed: UInt64 = 1) throws -> LoadedModel {
        try LoadedModel.random(configuration: configuration(id: id), seed: seed)
    }

    /// The tokens of a request sampled alone, straight through the engine (before any
    /// scheduler thread uses `model`: models are not reentrant).
    static func tokensAlone(_ model: LoadedModel, label: Int, steps: Int, seed: UInt64) throws -> [Int32] {
        var settings = model.defaultSettings
        settings.steps = steps
        return try XCTUnwrap(try model.sampler.generate(label: label, settings: settings, seed: seed))
    }
}

func request(
    model: String = "tiny", label: Int = 1, steps: Int = 4, seed: UInt64 = 1, preview: PreviewMode = .none,
    previewSteps: Set<Int>? = nil, deadline: ContinuousClock.Instant? = nil
) -> GenerationRequest {
    GenerationRequest(
        model: model, condition: .classLabel(label), seed: seed,
        settings: SamplerSettings(steps: steps, guidanceScale: 2, maskTemperature: 1.5, sampleTemperature: 3),
        preview: preview, previewSteps: previewSteps, deadline: deadline)
}

/// Every event of a job until it ends, or until `timeout` (a failure, not a hang).
func allEvents(
    of job: GenerationJob, timeout: Duration = .seconds(60), file: StaticString = #filePath, line: UInt = #line
) async -> [GenerationEvent] {
    await events(job.events(), timeout: timeout, file: file, line: line)
}

func events(
    _ stream: AsyncStream<GenerationEvent>, timeout: Duration = .seconds(60), file: StaticString = #filePath,
    line: UInt = #line
) async -> [GenerationEvent] {
    let collected = Locked<[GenerationEvent]>([])
    let finished = await withTaskGroup(of: Bool.self) { group in
        group.addTask {
            for await event in stream { collected.withLock { $0.append(event) } }
            return true
        }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return false
        }
        let first = await group.next() ?? false
        group.cancelAll()
        return first
    }
    if !finished { XCTFail("the job did not finish within \(timeout)", file: file, line: line) }
    return collected.withLock { $0 }
}

/// Polls `condition` until it holds or `timeout` passes; a failure when it never held.
func waitUntil(
    timeout: Duration = .seconds(60), file: StaticString = #filePath, line: UInt = #line,
    _ condition: () -> Bool
) async {
    let end = ContinuousClock.now + timeout
    while !condition() {
        if ContinuousClock.now >= end {
            XCTFail("condition not met within \(timeout)", file: file, line: line)
            return
        }
        try? await Task.sleep(for: .milliseconds(2))
    }
}

extension [GenerationEvent] {
    var steps: [StepProgress] {
        compactMap { if case .step(let progress) = $0 { progress } else { nil } }
    }

    var result: GenerationResult? {
        for case .completed(let result) in self { return result }
        return nil
    }

    var failure: GenerationFailure? {
        for case .failed(let failure) in self { return failure }
        return nil
    }
}

/// A clock the test moves by hand: time stands still until `advance`, which wakes the
/// schedulers reading it.
final class ManualClock: Sendable {
    private let start = ContinuousClock.now
    private let offset = Locked<Duration>(.zero)
    private let jumpObservers = Locked<[@Sendable () -> Void]>([])

    func advance(by duration: Duration) {
        offset.withLock { $0 += duration }
        for observer in jumpObservers.withLock({ $0 }) { observer() }
    }

    var scheduler: SchedulerClock {
        SchedulerClock(
            { [start, offset] in start + offset.withLock { $0 } },
            observeJumps: { [jumpObservers] observer in jumpObservers.withLock { $0.append(observer) } })
    }
}
