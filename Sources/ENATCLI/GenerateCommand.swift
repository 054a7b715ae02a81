import ArgumentParser
import ENAT
import Foundation
import Imaging
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
        abstract: "Generate one image from a bundle or the official files and write it as PNG, JPEG or WebP.",
        discussion: """
            The same model, arguments and seed always give the same PNG bytes; the PNG carries every \
            generation parameter in a 'parameters' text chunk (A1111's convention). With --frames, a preview \
            frame per sampler step (or per chosen step) is written as DIR/step-NN.png (NN 0-based). \
            The format follows -o's extension (.png, .jpg/.jpeg, .webp) unless --format names one; frames use \
            the same format. A JPEG carries the parameters in a comment; a WebP carries none.
            """)

    @Option(help: "A bundle folder, or the official files (a folder with nnet_ema.pth and vqgan_jax_strongaug.ckpt, or the .pth).")
    var model: String

    @Option(name: .customLong("class"), help: "Class to draw: its label (207) or name (\"golden retriever\").")
    var className: String?

    @Option(help: "Caption to draw (caption models).")
    var prompt: String?

    @Option(
        help:
            "Edit this image (PNG, JPEG or WebP; cropped to its centred square, resized to the model's size): --mask, --strength or the image's own transparency says what is redrawn."
    )
    var image: String?

    @Option(help: "Edit mask for --image (PNG with alpha, the image's size): fully transparent pixels are redrawn, as in OpenAI's edits.")
    var mask: String?

    @Option(help: "A variation of --image without a mask: the share of tokens redrawn, in (0, 1].")
    var strength: Double?

    @Option(parsing: .unconditional, help: "Random seed (0 to 2^64-1), or -1 for a random one below 2^53 (printed).")
    var seed: String = "1"

    @Option(help: "Sampler steps (default: the model's).")
    var steps: Int?

    @Option(help: "Classifier-free guidance scale (default: the model's).")
    var cfg: Double?

    @Option(help: "Temperature of the re-masking noise (default: the model's).")
    var maskTemp: Double?

    @Option(help: "Sampling temperature (default: the model's).")
    var sampTemp: Double?

    @Option(name: [.short, .customLong("output")], help: "Image file to write (.png, .jpg, .jpeg or .webp).")
    var output: String

    @Option(help: "Output format: png, jpeg or webp (default: from -o's extension).")
    var format: String?

    @Option(help: "Quality 0-100 for jpeg and webp, as the API's output_compression (default 100; webp 100 is lossless).")
    var compression: Int?

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
        _ = try parsedSeed()
        _ = try parsedFrameSteps()
        if frameSteps != nil, frames == nil { throw ValidationError("--frame-steps needs --frames DIR") }
        guard threads > 0 else { throw ValidationError("--threads must be positive") }
        try validateEditOptions()
        _ = try outputEncoding()
        // What can be checked before loading: the overrides (on settings inside the limits) and
        // the caption. The class label needs the model's class count: `request(for:)`.
        do {
            try SamplerLimits.engine.validate(overriding(SamplerSettings()), condition: prompt.map { .caption($0) })
        } catch {
            throw ValidationError(Self.message(error))
        }
    }

    /// The model's defaults with the given overrides.
    private func overriding(_ defaults: SamplerSettings) -> SamplerSettings {
        var settings = defaults
        if let steps { settings.steps = steps }
        if let cfg { settings.guidanceScale = cfg }
        if let maskTemp { settings.maskTemperature = maskTemp }
        if let sampTemp { settings.sampleTemperature = sampTemp }
        return settings
    }

    /// The condition and settings to generate with on `loaded`, checked against the engine's
    /// limits, or an error naming the flag to change.
    func request(for loaded: LoadedModel) throws -> (condition: GenerationCondition, settings: SamplerSettings) {
        let condition: GenerationCondition
        let limitedCondition: SamplerCondition
        if let className {
            guard loaded.kind == .classConditional else {
                throw GenerateError(description: "model \(loaded.id) takes a caption, not a class: use --prompt")
            }
            let trimmed = className.trimmingCharacters(in: .whitespaces)
            // A number is a label, checked against the model's classes like any other setting.
            if let label = Int(trimmed) ?? loaded.classLabel(for: className) {
                condition = .classLabel(label)
                limitedCondition = .classLabel(label, classCount: loaded.configuration.transformer.numClasses)
            } else {
                let suggestions = loaded.classSuggestions(for: className)
                let hint =
                    suggestions.isEmpty
                    ? "use a label 0...\(loaded.classNames.count - 1) or a name such as \"\(loaded.classNames[min(207, loaded.classNames.count - 1)])\""
                    : "did you mean \(suggestions.map { "'\($0)'" }.joined(separator: " or "))?"
                throw GenerateError(description: "unknown class '\(className)' for model \(loaded.id): \(hint)")
            }
        } else {
            guard loaded.kind == .caption else {
                throw GenerateError(description: "model \(loaded.id) takes a class, not a caption: use --class")
            }
            condition = .caption(prompt ?? "")
            limitedCondition = .caption(prompt ?? "")
        }
        let settings = overriding(loaded.defaultSettings)
        do {
            try SamplerLimits.engine.validate(settings, condition: limitedCondition)
        } catch {
            throw GenerateError(description: "model \(loaded.id): \(Self.message(error))")
        }
        return (condition, settings)
    }

    /// A setting outside the engine's limits, named by its flag.
    static func message(_ error: SamplerSettingError) -> String {
        switch error.setting {
        case .steps: "--steps \(error.requirement)"
        case .guidanceScale: "--cfg \(error.requirement)"
        case .maskTemperature: "--mask-temp \(error.requirement)"
        case .sampleTemperature: "--samp-temp \(error.requirement)"
        case .classLabel: "--class: label \(error.requirement)"
        case .caption: "--prompt \(error.requirement)"
        }
    }

    /// The seed to use; -1 draws one.
    private func parsedSeed() throws -> UInt64 {
        let text = seed.trimmingCharacters(in: .whitespaces)
        if text == "-1" { return RandomSeed.draw() }
        guard let value = UInt64(text) else {
            throw ValidationError("--seed must be an integer from 0 to 18446744073709551615, or -1 for a random seed; got '\(seed)'")
        }
        return value
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
        // Before loading and generating: a path that cannot be written fails now, in one line.
        if let problem = OutputPath.problem(output) { throw GenerateError(description: "cannot write -o \(output): \(problem)") }
        let seed = try parsedSeed()
        let encoding = try outputEncoding()
        let precision = try resolvePrecision(self.precision)
        BLAS.setThreads(threads)
        let progress = Progress(interactive: isatty(STDERR_FILENO) == 1)
        let loadStart = Date()
        let loaded = try LoadedModel.load(path: model, precision: precision)
        progress.line(
            String(
                format: "loaded %@ (%d px, %@) in %.1f s", loaded.id, loaded.imageSize, computeDescription(precision),
                Date().timeIntervalSince(loadStart)))

        let (condition, settings) = try request(for: loaded)
        let edit = try imageEdit(for: loaded)

        let mode = PreviewMode(rawValue: preview) ?? .mosaic
        let wantedFrames = try parsedFrameSteps()
        if let frames {
            try FileManager.default.createDirectory(atPath: frames, withIntermediateDirectories: true)
            if mode == .mosaic { try loaded.preparePreviews() }
        }

        let start = Date()
        progress.step(0, of: settings.steps, revealed: 0, tokens: loaded.tokenCount, seconds: 0)
        let image = try loaded.generate(condition: condition, settings: settings, seed: seed, edit: edit) { update in
            if let frames, wantedFrames?.contains(update.step) ?? true,
                let png = try loaded.renderPreviewPNG(update, mode: mode)
            {
                let name = String(format: "step-%02d.%@", update.step, encoding.format.fileExtension)
                let frame = try Self.transcode(png, to: encoding, parameters: nil)
                try Data(frame).write(to: URL(fileURLWithPath: frames).appendingPathComponent(name))
            }
            progress.step(
                update.step + 1, of: update.steps, revealed: update.revealed.filter { $0 }.count, tokens: update.revealed.count,
                seconds: Date().timeIntervalSince(start))
        }
        progress.finish()
        let parameters = loaded.parametersText(condition: condition, settings: settings, seed: seed)
        let file =
            encoding.format == .png
            ? loaded.annotate(image.png, condition: condition, settings: settings, seed: seed)
            : try Self.transcode(image.png, to: encoding, parameters: parameters)
        do {
            try Data(file).write(to: URL(fileURLWithPath: output), options: .atomic)
        } catch {
            throw GenerateError(description: "cannot write -o \(output): \(OutputPath.reason(error))")
        }
        progress.line(
            String(
                format: "wrote %@ (%d bytes, %dx%d) in %.2f s, seed %llu", output, file.count, loaded.imageSize,
                loaded.imageSize, Date().timeIntervalSince(start), seed))
    }
}

/// Checks an output file path before any work, in a person's words.
enum OutputPath {
    /// nil when `path` can be written (its folder exists and is writable, it is not a folder).
    static func problem(_ path: String) -> String? {
        guard !path.isEmpty else { return "the path is empty" }
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: path, isDirectory: &isDirectory) {
            if isDirectory.boolValue { return "it is a folder; give a file name such as \(path.hasSuffix("/") ? path : path + "/")out.png" }
            return manager.isWritableFile(atPath: path) ? nil : "the file exists and is not writable"
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard manager.fileExists(atPath: folder, isDirectory: &isDirectory) else { return "the folder \(folder) does not exist" }
        guard isDirectory.boolValue else { return "\(folder) is not a folder" }
        return manager.isWritableFile(atPath: folder) ? nil : "the folder \(folder) is not writable"
    }

    /// A write error without Foundation's domain and code dump.
    static func reason(_ error: any Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return nsError.localizedDescription
    }
}

/// A request the model cannot serve, found after loading (ArgumentParser would print usage
/// for a `ValidationError`, which is not the problem here).
struct GenerateError: Error, CustomStringConvertible {
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
