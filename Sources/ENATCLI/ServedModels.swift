import DurationSeconds
import Foundation
import ModelBundle
import ServerLog
import ServerSettings
import Tensors

/// Turns the configured model paths into loaded models, with errors a person can act on.
enum ServedModels {
    /// The name of the random test model: ENAT's `enat_tiny` shapes and a small VQGAN with random
    /// weights (`BundleConfiguration.testTiny`). Its images are noise; it exists so tests and
    /// benchmarks run without trained weights.
    static let randomTiny = "random:tiny"

    /// Loads every model of `configuration` (its paths, or the demo bundles that exist). Throws a
    /// `ConfigurationError` naming what to pass when there is nothing to load or a path does not exist.
    static func load(
        _ configuration: ServerConfiguration, logger: Logger, executablePath: String? = nil,
        workingDirectory: String = FileManager.default.currentDirectoryPath,
        fileExists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) }
    ) throws -> [LoadedModel] {
        let paths = configuration.modelPaths(fileExists: fileExists)
        guard !paths.isEmpty else {
            throw ConfigurationError(missingDemoBundles(executablePath: executablePath, workingDirectory: workingDirectory, fileExists: fileExists))
        }
        let precision: ComputePrecision
        do {
            precision = try configuration.precision.resolve()
        } catch {
            throw ConfigurationError(error.description)
        }
        var models: [LoadedModel] = []
        for path in paths {
            let start = ContinuousClock.now
            let model: LoadedModel
            if path == randomTiny {
                model = try LoadedModel.random(configuration: .testTiny, seed: 0, precision: precision)
            } else {
                guard fileExists(path) else {
                    throw ConfigurationError(
                        "model path '\(path)' does not exist (working directory \(FileManager.default.currentDirectoryPath)); "
                            + "give a bundle folder, the official checkpoint files, or \(randomTiny)")
                }
                model = try LoadedModel.load(path: path, precision: precision)
            }
            logger.info(
                "model loaded",
                [
                    "model": .string(model.id), "kind": .string(model.kind.rawValue), "path": .string(path),
                    "resolution": .int(model.imageSize), "seconds": .double((ContinuousClock.now - start).inSeconds),
                    "precision": .string(model.precision.rawValue), "backend": .string(model.computeBackend),
                    "kernel": .string(model.computeKernel),
                ])
            models.append(model)
        }
        return models
    }

    /// Where the demo bundles were looked for and how to point at them; when the executable sits
    /// in a checkout's build folder (`CHECKOUT/.build/release/enat`), the exact flags for its bundles.
    static func missingDemoBundles(executablePath: String?, workingDirectory: String, fileExists: (String) -> Bool) -> String {
        let looked = ServerConfiguration.defaultModelPaths.map { workingDirectory + "/" + $0 }
        var message =
            "no model to serve: the demo bundles are looked for relative to the working directory, at "
            + looked.joined(separator: " and ") + ", and are not there."
        var found: [String]?
        if let executablePath {
            var folder = URL(fileURLWithPath: executablePath, relativeTo: URL(fileURLWithPath: workingDirectory, isDirectory: true))
                .standardizedFileURL.deletingLastPathComponent()
            for _ in 0..<4 {
                let candidates = ServerConfiguration.defaultModelPaths.map { folder.appendingPathComponent($0).path }
                if candidates.allSatisfy(fileExists) {
                    found = candidates
                    break
                }
                folder = folder.deletingLastPathComponent()
            }
        }
        if let found {
            message +=
                " Run from the checkout (cd \(URL(fileURLWithPath: found[0]).deletingLastPathComponent().deletingLastPathComponent().path)), or pass "
                + found.map { "--model \($0)" }.joined(separator: " ") + "."
        } else {
            message +=
                " Run from the checkout (where Models/ is), or pass --model PATH (a bundle folder or the official checkpoint files; repeatable) or set ENAT_MODELS."
        }
        return message + " --model \(randomTiny) serves a random-weight test model."
    }

}
