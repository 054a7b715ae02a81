import ArgumentParser
import Benchmarks
import ENAT
import Foundation
import Imaging
import ModelBundle
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

    @Option(help: "Repetitions per batch size (transformer figures: the best of them; VQGAN decode: their mean).")
    var repetitions: Int = 1

    @Option(help: "OpenBLAS threads (the inference thread owns them).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(parsing: .upToNextOption, help: "Batch sizes for the 256 px VQGAN decode (0: skip).")
    var decodeBatch: [Int] = [1, 4]

    @Option(help: "Mosaic preview frames to time (0: skip).")
    var mosaicFrames: Int = 200

    @Option(help: "Whole images to time end to end: sampler, VQGAN decode and PNG (0: skip).")
    var wholeImages: Int = 2

    @Option(
        parsing: .upToNextOption,
        help: "Precisions to time, side by side with the ratio (fp32, bf16, auto). Default: fp32, and bf16 where the CPU runs it.")
    var precision: [String] = []

    func run() throws {
        let bundle: BundleConfiguration
        switch model {
        case "large256": bundle = .official(resolution: 256)
        case "large512": bundle = .official(resolution: 512)
        case "tiny": bundle = .testTiny
        default: throw ValidationError("unknown model shape '\(model)'")
        }
        var precisions: [ComputePrecision] = []
        for text in precision.isEmpty ? (BF16Kernel.best == nil ? ["fp32"] : ["fp32", "bf16"]) : precision {
            let resolved = try resolvePrecision(text)
            if !precisions.contains(resolved) { precisions.append(resolved) }
        }
        let config = bundle.transformer
        BLAS.setThreads(threads)
        print(
            "OpenBLAS core: \(BLAS.coreName), threads: \(BLAS.threads), OPENBLAS_CORETYPE=\(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] ?? "(unset)"); bf16 kernel: \(BF16Kernel.best.map { "\($0)" } ?? "none")"
        )
        // The transformer and the VQGAN of the model's shape, random weights (seed 1), once per precision.
        var models: [(precision: ComputePrecision, model: LoadedModel)] = []
        for precision in precisions {
            let loadStart = Date()
            models.append((precision, try LoadedModel.random(configuration: bundle, seed: 1, precision: precision)))
            print(
                String(
                    format: "model %@ (D=%d, %d+%d blocks, L=%d) with random weights, %@, built in %.1f s", model, config.hiddenSize,
                    config.encoderDepth, config.decoderDepth, config.tokenCount, computeDescription(precision), Date().timeIntervalSince(loadStart)))
        }
        let settings = SamplerSettings(steps: steps, guidanceScale: cfg, maskTemperature: 1.5, sampleTemperature: 6)
        print("transformer, \(steps) steps, cfg \(cfg):")
        for size in batch {
            var seconds: [Double] = []
            for (precision, loaded) in models {
                let result = try SamplerBenchmark.run(sampler: loaded.sampler, settings: settings, batch: size, repetitions: repetitions)
                seconds.append(result.secondsPerImage)
                print(
                    String(
                        format: "  batch %2d %@: %.3f s/image, %.1f GFLOP/image, %.1f GFLOP/s", size, precision.rawValue, result.secondsPerImage,
                        result.operationsPerImage / 1e9, result.gflops))
                if let linear = result.linearGEMMSecondsPerImage, let all = result.allGEMMSecondsPerImage {
                    print(
                        String(
                            format:
                                "                 OpenBLAS alone on the same calls: linear layers %.3f s/image (ours %.2fx), all GEMMs %.3f s/image (ours %.2fx)",
                            linear, result.secondsPerImage / linear, all, result.secondsPerImage / all))
                }
            }
            if seconds.count == 2 {
                print(
                    String(
                        format: "  batch %2d %@/%@ time ratio: %.2fx", size, precisions[1].rawValue, precisions[0].rawValue, seconds[1] / seconds[0]))
            }
        }
        let decodeBatch = decodeBatch.filter { $0 > 0 }
        if !decodeBatch.isEmpty { print("VQGAN decode, 256 px (16x16 tokens), random weights of the released shape:") }
        for size in decodeBatch {
            var seconds: [Double] = []
            for precision in precisions {
                let result = VQGANBenchmark.run(batch: size, repetitions: max(repetitions, 2), precision: precision)
                seconds.append(result.secondsPerImage)
                print(String(format: "  batch %2d %@: %.3f s/image, %.1f GFLOP/s", size, precision.rawValue, result.secondsPerImage, result.gflops))
            }
            if seconds.count == 2 {
                print(
                    String(
                        format: "  batch %2d %@/%@ time ratio: %.2fx", size, precisions[1].rawValue, precisions[0].rawValue, seconds[1] / seconds[0]))
            }
        }
        if mosaicFrames > 0, let loaded = models.first?.model {
            // The per-code colours: one decode of every code, paid once per model.
            let tableStart = Date()
            try loaded.preparePreviews()
            print(
                String(
                    format: "mosaic colour table (%d codes decoded once): %.2f s", config.codebookSize, Date().timeIntervalSince(tableStart)))
            let result = try MosaicBenchmark.run(
                outputSize: loaded.imageSize, gridSide: config.latentSize, codebookSize: config.codebookSize, frames: mosaicFrames)
            print("mosaic preview frame, \(loaded.imageSize) px (\(config.latentSize)x\(config.latentSize) tokens): \(result)")
        }
        if wholeImages > 0 {
            for (_, loaded) in models { try timeWholeImages(loaded, settings: settings) }
        }
    }

    /// One request at a time through the whole path, as `enat generate` runs it: sampler steps,
    /// one VQGAN decode, PNG at the small compression. New labels, so no cached conditioning.
    private func timeWholeImages(_ loaded: LoadedModel, settings: SamplerSettings) throws {
        print("whole image, \(loaded.imageSize) px, batch 1, \(loaded.precision.rawValue) (sampler + VQGAN decode + PNG):")
        var sampling = 0.0, rendering = 0.0
        for index in 0..<wholeImages {
            // Counting down from the top: the sampler benchmark used labels from 0 up.
            let label = max(0, loaded.configuration.transformer.numClasses - 2 - index)
            let start = Date()
            let run = try loaded.makeRun(condition: .classLabel(label), settings: settings, seed: UInt64(index))
            while !run.isFinished { _ = try loaded.sampler.step([run]) }
            let sampled = Date()
            _ = try loaded.renderFinalPNGs([run.ids])
            sampling += sampled.timeIntervalSince(start)
            rendering += Date().timeIntervalSince(sampled)
        }
        let n = Double(wholeImages)
        print(
            String(
                format: "  %.3f s/image = sampler %.3f s + decode and PNG %.3f s (%d images)", (sampling + rendering) / n,
                sampling / n, rendering / n, wholeImages))
    }
}
