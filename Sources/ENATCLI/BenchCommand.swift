import ArgumentParser
import ENAT
import Foundation
import Tensors
import VQGAN

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the sampler on random weights of a real shape (default ENAT-L, 256 px, 8 steps, guidance on).")

    @Option(help: "Model shape: large256, large512, or tiny.")
    var model: String = "large256"

    @Option(parsing: .upToNextOption, help: "Batch sizes to time.")
    var batch: [Int] = [1, 4, 8]

    @Option(help: "Sampler steps.")
    var steps: Int = 8

    @Option(help: "Guidance scale (0 turns the unconditional stream off).")
    var cfg: Double = 2.5

    @Option(help: "Repetitions per batch size.")
    var repetitions: Int = 1

    @Option(help: "OpenBLAS threads (the inference thread owns them).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(parsing: .upToNextOption, help: "Batch sizes for the 256 px VQGAN decode (empty list: skip).")
    var decodeBatch: [Int] = [1, 4]

    func run() throws {
        let config: ENATConfiguration
        switch model {
        case "large256": config = .large256
        case "large512": config = .large512
        case "tiny": config = ENATConfiguration(latentSize: 16, hiddenSize: 64, numHeads: 4, encoderDepth: 2, decoderDepth: 1)
        default: throw ValidationError("unknown model shape '\(model)'")
        }
        BLAS.setThreads(threads)
        print("OpenBLAS core: \(BLAS.coreName), threads: \(BLAS.threads), OPENBLAS_CORETYPE=\(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "(unset)")")
        let loadStart = Date()
        let sampler = try SamplerBenchmark.randomModel(config)
        print(String(format: "model %@ (D=%d, %d+%d blocks, L=%d) with random weights, built in %.1f s", model, config.hiddenSize, config.encoderDepth, config.decoderDepth, config.tokenCount, Date().timeIntervalSince(loadStart)))
        let settings = SamplerSettings(steps: steps, guidanceScale: cfg, maskTemperature: 1.5, sampleTemperature: 6)
        print("transformer, \(steps) steps, cfg \(cfg):")
        for size in batch {
            let result = try SamplerBenchmark.run(sampler: sampler, settings: settings, batch: size, repetitions: repetitions)
            print(String(format: "  batch %2d: %.3f s/image, %.1f GFLOP/image, %.1f GFLOP/s", size, result.secondsPerImage, result.operationsPerImage / 1e9, result.gflops))
        }
        if !decodeBatch.isEmpty { print("VQGAN decode, 256 px (16x16 tokens), random weights of the released shape:") }
        for size in decodeBatch {
            let result = VQGANBenchmark.run(batch: size, repetitions: max(repetitions, 2))
            print(String(format: "  batch %2d: %.3f s/image, %.1f GFLOP/s", size, result.secondsPerImage, result.gflops))
        }
    }
}
