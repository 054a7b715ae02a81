import ENAT
import ModelBundle

extension GenerationRequest {
    /// Cheap checks before queueing, so a bad request fails at once rather than after its wait:
    /// the condition fits the model's kind, the settings, class label and caption are within
    /// `SamplerLimits.engine`, and preview steps are steps of the run. Heavier preparation
    /// (tokenizing and encoding a caption) runs on the inference thread.
    func validate(for model: LoadedModel) throws(SubmitError) {
        let limitedCondition: SamplerCondition
        switch (model.kind, condition) {
        case (.classConditional, .classLabel(let label)):
            limitedCondition = .classLabel(label, classCount: model.configuration.transformer.numClasses)
        case (.caption, .caption(let text)):
            limitedCondition = .caption(text)
        case (.classConditional, .caption), (.caption, .classLabel):
            throw .conditionMismatch(model: model.id, takes: model.kind)
        }
        do {
            try SamplerLimits.engine.validate(settings, condition: limitedCondition)
        } catch {
            throw .invalidSetting(model: model.id, error)
        }
        if let previewSteps, let outside = previewSteps.first(where: { !(0..<settings.steps).contains($0) }) {
            throw .previewStep(outside, steps: settings.steps)
        }
    }
}
