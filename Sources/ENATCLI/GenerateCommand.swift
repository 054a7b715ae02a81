import ArgumentParser
import ENAT
import Foundation
import ModelBundle
import Tensors

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate one image from a bundle or the official files and write it as PNG.",
        discussion: """
            The same model, arguments and seed always give the same PNG bytes. With --frames, a preview
            frame per sampler step (or per chosen step) is written as DIR/step-NN.png (NN 0-based).
            """)

    @Option(help: "A bundle folder, or the official files (a folder with nnet_ema.pth and vqgan_jax_strongaug.ckpt, or the .pth).")
    var model: String

    @Option(name: .customLong("class"), help: "Class to draw: its label (207) or name (\"golden retriever\").")
    var className: String?

    @Option(help: "Caption to draw (caption models).")
    var prompt: String?

    @Option(help: "Random seed.")
    var seed: UInt64 = 1

    @Option(help: "Sampler steps (default: the model's).")
    var steps: Int?

    @Option(help: "Classifier-free guidance scale (default: the model's).")
    var cfg: Double?

    @Option(help: "Temperature of the re-masking noise (default: the model's).")
    var maskTemp: Double?

    @Option(help: "Sampling temperature (default: the model's).")
    var sampTemp: Double?

    @Option(name: [.short, .customLong("output")], help: "PNG file to write.")
    var output: String

    @Option(help: "Folder for progressive preview frames (created if needed).")
    var frames: String?

    @Option(help: "Preview kind for --frames: mosaic (revealed tokens, milliseconds) or full (a VQGAN decode per frame).")
    var preview: String = "mosaic"

    @Option(help: "Comma-separated 0-based steps that get a frame (default: every step).")
    var frameSteps: String?

    @Option(help: "OpenBLAS threads.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Number format of the linear layers: fp32, bf16 or auto (bf16 where the CPU has AVX512-BF16).")
    var precision: String = "auto"

    func validate() throws {
        guard (className == nil) != (prompt == nil) else { throw ValidationError("give exactly one of --class and --prompt") }
        guard let mode = PreviewMode(rawValue: preview), mode != .none else {
            throw ValidationError("--preview must be mosaic or full")
        }
        _ = try parsedFrameSteps()
        if frameSteps != nil, frames == nil { throw ValidationError("--frame-steps needs --frames DIR") }
        guard threads > 0 else { throw ValidationError("--threads must be positive") }
    }

    private func parsedFrameSteps() throws -> Set<Int>? {
        guard let frameSteps else { return nil }
        var result = Set<Int>()
        for part in frameSteps.split(separator: ",", omittingEmptySubsequences: false) {
            guard let step = Int(part.trimmingCharacters(in: .whitespaces)), step >= 0 else {
                throw ValidationError("--frame-steps: '\(part)' is not a step number (0-based)")
            }
            result.insert(step)
        }
        return result
    }

    func run() throws {
        let precision = try resolvePrecision(self.precision)
        BLAS.setThreads(threads)
        let progress = Progress(interactive: isatty(STDERR_FILENO) == 1)
        let loadStart = Date()
        let loaded = try LoadedModel.load(path: model, precision: precision)
        progress.line(String(
            format: "loaded %@ (%d px, %@) in %.1f s", loaded.id, loaded.imageSize, computeDescription(precision),
            Date().timeIntervalSince(loadStart)))

        let condition: GenerationCondition
        if let className {
            guard let label = loaded.classLabel(for: className) else {
                let hint = loaded.classNames.isEmpty
                    ? "model \(loaded.id) is caption-conditioned: use --prompt"
                    : "use a label 0...\(loaded.classNames.count - 1) or a name such as \"\(loaded.classNames[min(207, loaded.classNames.count - 1)])\""
                throw GenerateError(description: "unknown class '\(className)': \(hint)")
            }
            condition = .classLabel(label)
        } else {
            condition = .caption(prompt ?? "")
        }
        var settings = loaded.defaultSettings
        if let steps { settings.steps = steps }
        if let cfg { settings.guidanceScale = cfg }
        if let maskTemp { settings.maskTemperature = maskTemp }
        if let sampTemp { settings.sampleTemperature = sampTemp }

        let mode = PreviewMode(rawValue: preview) ?? .mosaic
        let wantedFrames = try parsedFrameSteps()
        if let frames {
            try FileManager.default.createDirectory(atPath: frames, withIntermediateDirectories: true)
            if mode == .mosaic { try loaded.preparePreviews() }
        }

        let start = Date()
        progress.step(0, of: settings.steps, revealed: 0, tokens: loaded.tokenCount, seconds: 0)
        let image = try loaded.generate(condition: condition, settings: settings, seed: seed) { update in
            if let frames, wantedFrames?.contains(update.step) ?? true,
                let png = try loaded.renderPreviewPNG(update, mode: mode)
            {
                let name = String(format: "step-%02d.png", update.step)
                try Data(png).write(to: URL(fileURLWithPath: frames).appendingPathComponent(name))
            }
            progress.step(
                update.step + 1, of: update.steps, revealed: update.revealed.filter { $0 }.count, tokens: update.revealed.count,
                seconds: Date().timeIntervalSince(start))
        }
        progress.finish()
        try Data(image.png).write(to: URL(fileURLWithPath: output), options: .atomic)
        progress.line(String(
            format: "wrote %@ (%d bytes, %dx%d) in %.2f s, seed %llu", output, image.png.count, loaded.imageSize,
            loaded.imageSize, Date().timeIntervalSince(start), seed))
    }
}

/// A request the model cannot serve, found after loading (ArgumentParser would print usage
/// for a `ValidationError`, which is not the problem here).
private struct GenerateError: Error, CustomStringConvertible {
    let description: String
}

/// Progress on stderr: a redrawn bar on a terminal, one plain line per step otherwise.
private final class Progress {
    let interactive: Bool
    private var barShown = false

    init(interactive: Bool) { self.interactive = interactive }

    func step(_ done: Int, of steps: Int, revealed: Int, tokens: Int, seconds: Double) {
        if interactive {
            let width = 30
            let filled = steps > 0 ? width * done / steps : width
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            write(String(format: "\r[%@] step %d/%d, %d/%d tokens, %.1f s", bar, done, steps, revealed, tokens, seconds))
            barShown = true
        } else if done > 0 {
            write(String(format: "step %d/%d: %d/%d tokens revealed, %.2f s\n", done, steps, revealed, tokens, seconds))
        }
    }

    func finish() {
        if barShown { write("\n") }
        barShown = false
    }

    func line(_ text: String) {
        finish()
        write(text + "\n")
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
