import ENAT
import ModelBundle

extension GenerationRequest {
    /// The longest caption accepted, in UTF-8 bytes. CLIP reads 77 tokens anyway; the bound
    /// keeps tokenizing on the inference thread cheap.
    public static let maxCaptionBytes = 4096

    /// Cheap checks before queueing, so a bad request fails at once rather than after its wait.
    /// Heavier preparation (tokenizing and encoding a caption) runs on the inference thread.
    func validate(for model: LoadedModel) throws(SubmitError) {
        let settings = settings
        guard (1...64).contains(settings.steps) else {
            throw .invalid(parameter: "steps", message: "must be 1...64, got \(settings.steps)")
        }
        for (name, value) in [
            ("guidance_scale", settings.guidanceScale), ("mask_temperature", settings.maskTemperature),
            ("sample_temperature", settings.sampleTemperature),
        ] where !(value.isFinite && (0...1000).contains(value)) {
            throw .invalid(parameter: name, message: "must be a finite number in 0...1000, got \(value)")
        }
        if let previewSteps, let outside = previewSteps.first(where: { !(0..<settings.steps).contains($0) }) {
            throw .invalid(
                parameter: "preview_steps", message: "steps are 0-based and below \(settings.steps), got \(outside)")
        }
        switch (model.kind, condition) {
        case (.classConditional, .classLabel(let label)):
            let classes = model.configuration.transformer.numClasses
            guard (0..<classes).contains(label) else {
                throw .invalid(parameter: "class_label", message: "must be 0..<\(classes), got \(label)")
            }
        case (.classConditional, .caption):
            throw .invalid(parameter: "caption", message: "model '\(model.id)' is class-conditional and takes a class")
        case (.caption, .classLabel):
            throw .invalid(parameter: "class_label", message: "model '\(model.id)' takes a caption, not a class")
        case (.caption, .caption(let text)):
            guard !text.allSatisfy(\.isWhitespace) else {
                throw .invalid(parameter: "caption", message: "must not be empty")
            }
            guard text.utf8.count <= Self.maxCaptionBytes else {
                throw .invalid(parameter: "caption", message: "must be at most \(Self.maxCaptionBytes) bytes of UTF-8")
            }
        }
    }
}
