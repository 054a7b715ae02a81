import ENAT

/// One finished image.
public struct GeneratedImage: Sendable {
    /// The sampler's final token map, row-major.
    public let tokens: [Int32]
    /// The final PNG (small compression).
    public let png: [UInt8]
}

extension LoadedModel {
    /// The whole path for one request on the calling thread: prepare the run, step the sampler
    /// to the end, decode and encode. `onStep` sees every step's update (for progress and
    /// previews); an error it throws stops the generation. With `edit`, the image's tokens
    /// outside its region are kept. Same arguments, same bytes.
    public func generate(
        condition: GenerationCondition, settings: SamplerSettings, seed: UInt64, edit: ImageEdit? = nil,
        onStep: (StepUpdate) throws -> Void = { _ in }
    ) throws -> GeneratedImage {
        let run = try makeRun(condition: condition, settings: settings, seed: seed, edit: edit)
        while !run.isFinished {
            let updates: [StepUpdate]
            do {
                updates = try sampler.step([run])
            } catch {
                throw ModelBundleError.engine(model: id, error)
            }
            for update in updates { try onStep(update) }
        }
        let png = try renderFinalPNGs([run.ids])[0]
        return GeneratedImage(tokens: run.ids, png: png)
    }
}
