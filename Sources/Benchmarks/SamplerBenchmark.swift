import DurationSeconds
import ENAT
import Tensors

/// Times the whole sampler on a model of a real shape, as `enat bench` reports it.
public enum SamplerBenchmark {
    public struct Result: Sendable {
        public let batch: Int
        public let secondsPerImage: Double
        /// Operations per image (2 per multiply-add) issued by the transformer.
        public let operationsPerImage: Double
        /// OpenBLAS alone on the same calls, replayed right after (`GEMMTrace`): the linear
        /// layers (weights times activations) and every GEMM (attention products too).
        /// nil when not replayed (bf16 runs: the replay is of OpenBLAS's float32 calls).
        public let linearGEMMSecondsPerImage: Double?
        public let allGEMMSecondsPerImage: Double?
        public var gflops: Double { operationsPerImage / secondsPerImage / 1e9 }
    }

    /// Samples `batch` images together, `repetitions` times, with labels not seen before so that
    /// each request pays for its own conditioning; the shared unconditional first step is warm,
    /// as on a running server. Each repetition's GEMM calls are then replayed through OpenBLAS
    /// alone right away, so that engine and bound are timed seconds apart on the same machine;
    /// every figure is the best of the repetitions (shared machines only ever add time). bf16
    /// samplers are not replayed: the replay is OpenBLAS's float32 bound.
    public static func run(
        sampler: ENATSampler, settings: SamplerSettings, batch: Int, repetitions: Int = 1, firstLabel: Int = 0
    ) throws -> Result {
        let replay = sampler.transformer.weights.precision == .fp32
        let config = sampler.config
        _ = try sampler.step([sampler.makeRun(label: config.numClasses - 1, settings: settings, seed: 0)])  // warm-up
        var label = firstLabel
        var best = (engine: Double.infinity, linear: Double.infinity, all: Double.infinity)
        var operations = 0.0
        for repetition in 0..<max(1, repetitions) {
            let runs = try (0..<batch).map { index -> SamplingRun in
                defer { label = (label + 1) % config.numClasses }
                return try sampler.makeRun(label: label, settings: settings, seed: UInt64(repetition * batch + index))
            }
            let before = sampler.transformer.operationCount
            func sample() throws -> Double {
                let start = ContinuousClock.now
                while runs.contains(where: { !$0.isFinished }) { _ = try sampler.step(runs) }
                return (ContinuousClock.now - start).inSeconds
            }
            if replay {
                let (elapsed, trace) = try GEMMTrace.record { try sample() }
                best.engine = min(best.engine, elapsed)
                best.linear = min(best.linear, GEMMTrace.replaySeconds(trace.linearLayerCalls))
                best.all = min(best.all, GEMMTrace.replaySeconds(trace.calls))
            } else {
                best.engine = min(best.engine, try sample())
            }
            operations = sampler.transformer.operationCount - before
        }
        let images = Double(batch)
        return Result(
            batch: batch, secondsPerImage: best.engine / images, operationsPerImage: operations / images,
            linearGEMMSecondsPerImage: replay ? best.linear / images : nil, allGEMMSecondsPerImage: replay ? best.all / images : nil)
    }
}
