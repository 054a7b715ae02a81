import CLIPText
import ENAT
import VQGAN

extension BundleConfiguration {
    /// Characters an id may hold: it travels in URLs, JSON and log lines unescaped.
    static let idCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")

    /// Throws the first reason the parts do not fit together (`file` names the config in the error).
    public func validate(file: String = "config.json") throws(ModelBundleError) {
        func fail(_ reason: String) -> ModelBundleError { .invalidConfiguration(file: file, reason: reason) }

        guard (1...64).contains(id.count), id.allSatisfy(Self.idCharacters.contains) else {
            throw fail("id '\(id)' must be 1 to 64 characters of A-Z a-z 0-9 . _ -")
        }
        do { try transformer.validate() } catch { throw fail(error.description) }
        if let problem = vqgan.problem { throw fail("vqgan: \(problem)") }
        guard vqgan.outCh == 3 else { throw fail("vqgan.out_ch is \(vqgan.outCh); images need 3 (RGB)") }
        guard transformer.codebookSize == vqgan.nEmbed else {
            throw fail("transformer.codebook_size \(transformer.codebookSize) differs from vqgan.n_embed \(vqgan.nEmbed)")
        }
        let side = transformer.latentSize * vqgan.downsamplingFactor
        guard resolution == side else {
            throw fail(
                "resolution \(resolution) does not match latent_size \(transformer.latentSize) x VQGAN downsampling \(vqgan.downsamplingFactor) = \(side)"
            )
        }
        guard vqgan.resolution == resolution else {
            throw fail("vqgan.resolution \(vqgan.resolution) differs from resolution \(resolution)")
        }
        do {
            try SamplerLimits.engine.validate(sampler)
        } catch {
            throw fail(Self.samplerProblem(error))
        }
        for (what, name) in [("transformer", files.transformer), ("vqgan", files.vqgan)] + optionalFiles {
            guard Self.isPlainFileName(name) else {
                throw fail("files.\(what) '\(name)' must be a plain file name inside the bundle folder")
            }
        }

        switch kind {
        case .classConditional:
            guard transformer.numClasses > 0 else { throw fail("a class model needs transformer.num_classes > 0") }
            guard classNames.count == transformer.numClasses else {
                throw fail("class_names has \(classNames.count) entries, transformer.num_classes is \(transformer.numClasses)")
            }
            if let blank = classNames.firstIndex(where: { $0.trimmingWhitespace().isEmpty }) {
                throw fail("class_names[\(blank)] is empty")
            }
        case .caption:
            guard let textEncoder else { throw fail("a caption model needs a text_encoder configuration") }
            do { try textEncoder.validate() } catch { throw fail("text_encoder: \(error)") }
            guard files.textEncoder != nil else { throw fail("a caption model needs files.text_encoder") }
            guard files.vocabulary != nil else { throw fail("a caption model needs files.vocabulary") }
            guard classNames.isEmpty else { throw fail("a caption model has no class_names") }
        }
    }

    /// A sampler default outside the engine's limits, named by its `config.json` key
    /// (`SamplerSettings`' coding keys).
    static func samplerProblem(_ error: SamplerSettingError) -> String {
        switch error.setting {
        case .steps: "sampler.steps \(error.requirement)"
        case .guidanceScale: "sampler.cfg_scale \(error.requirement)"
        case .maskTemperature: "sampler.mask_temp \(error.requirement)"
        case .sampleTemperature: "sampler.samp_temp \(error.requirement)"
        // A bundle's defaults hold no condition; the engine's words then.
        case .classLabel, .caption: "sampler: \(error)"
        }
    }

    private var optionalFiles: [(String, String)] {
        [("text_encoder", files.textEncoder), ("vocabulary", files.vocabulary)].compactMap { pair in
            pair.1.map { (pair.0, $0) }
        }
    }

    /// No folders, no `..`, nothing hidden: a bundle cannot point outside itself.
    static func isPlainFileName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 255 && !name.hasPrefix(".") && !name.contains("/") && !name.contains("\\")
            && !name.contains("\0")
    }
}

extension String {
    func trimmingWhitespace() -> Substring {
        let start = firstIndex(where: { !$0.isWhitespace }) ?? endIndex
        let end = lastIndex(where: { !$0.isWhitespace }).map { index(after: $0) } ?? start
        return self[start..<max(start, end)]
    }
}
