import ENAT
import Foundation
import ModelBundle
import ModelFiles
import VQGAN

/// Generates images with a committed demo bundle the way the server does (its sampler with the
/// bundle's default settings, several runs stepped together), and decodes them to floats for
/// the quality classifier.
enum DemoSampling {
    /// The repository's `Models/` folder.
    static let modelsFolder: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Models")

    static func bundle(_ name: String) -> URL { modelsFolder.appendingPathComponent(name) }

    /// Final token maps of one run per condition (seed `seeds[i]` for condition `i`), stepped in
    /// batches of `batch` runs.
    static func tokens(
        model: LoadedModel, conditions: [GenerationCondition], seeds: [UInt64], batch: Int = 25
    ) throws -> [[Int32]] {
        precondition(conditions.count == seeds.count)
        var maps: [[Int32]] = []
        for start in stride(from: 0, to: conditions.count, by: batch) {
            let end = min(start + batch, conditions.count)
            let runs = try (start..<end).map {
                try model.makeRun(condition: conditions[$0], settings: model.defaultSettings, seed: seeds[$0])
            }
            while runs.contains(where: { !$0.isFinished }) { _ = try model.sampler.step(runs) }
            maps += runs.map(\.ids)
        }
        return maps
    }

    /// `[count, 3, H, W]` decoder outputs (before clamping) of token maps, with the bundle's VQGAN.
    static func decode(_ maps: [[Int32]], model: LoadedModel, bundle: URL) throws -> [Float] {
        let file = try SafeTensorsFile(path: bundle.appendingPathComponent(model.configuration.files.vqgan).path)
        let decoder = try VQGANDecoder(configuration: model.configuration.vqgan, archive: file, precision: model.precision)
        decoder.maxImagesPerPass = 8
        let latent = model.configuration.transformer.latentSize
        return try decoder.decode(tokens: Array(maps.joined()), batch: maps.count, latentHeight: latent, latentWidth: latent)
    }
}
