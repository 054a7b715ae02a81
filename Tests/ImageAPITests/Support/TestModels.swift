import CLIPText
import ENAT
import ModelBundle
import VQGAN

/// Very small random-weight models: a debug-build step and decode take milliseconds, so tests can
/// run real generations through the real scheduler.
enum TestModels {
    /// A class model: 4 x 4 tokens, 3 classes, 8 px images.
    static func classModel(id: String = "tiny-class") throws -> LoadedModel {
        try LoadedModel.random(configuration: configuration(id: id), seed: 7)
    }

    /// A caption model of the same shapes with a one-layer random CLIP text tower (byte-level vocabulary).
    static func captionModel(id: String = "tiny-caption") throws -> LoadedModel {
        var configuration = configuration(id: id)
        configuration.kind = .caption
        configuration.classNames = []
        configuration.transformer.numClasses = 0
        configuration.textEncoder = TextEncoderConfiguration(hiddenSize: 16, intermediateSize: 32, numHiddenLayers: 1, numAttentionHeads: 2)
        configuration.files = .init(textEncoder: "text_encoder.safetensors", vocabulary: "bpe_simple_vocab_16e6.txt.gz")
        return try LoadedModel.random(configuration: configuration, seed: 8)
    }

    static func configuration(id: String) -> BundleConfiguration {
        BundleConfiguration(
            id: id, kind: .classConditional, description: "test model", resolution: 8,
            transformer: ENATConfiguration(
                latentSize: 4, hiddenSize: 32, numHeads: 2, encoderDepth: 1, decoderDepth: 1, codebookSize: 64, numClasses: 3),
            vqgan: VQGANConfiguration(ch: 32, chMult: [1, 1], numResBlocks: 1, zChannels: 8, nEmbed: 64, resolution: 8),
            sampler: SamplerSettings(steps: 4, guidanceScale: 2, maskTemperature: 1.5, sampleTemperature: 6),
            classNames: ["red circle, red disc", "blue square", "green triangle"])
    }
}
