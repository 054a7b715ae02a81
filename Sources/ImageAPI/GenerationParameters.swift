import ENAT
import Foundation
import HTTPServer
import ModelBundle
import Scheduler

/// What every generation endpoint accepts, before validation. The endpoints fill it from their
/// JSON body or query string; `resolve` turns it into scheduler requests or a 400 naming the
/// parameter, so nothing invalid is ever queued.
struct GenerationParameters: Sendable {
    var model: String?
    /// Prompt text and the name of the parameter it came from (`prompt`, `class` or `caption`).
    var text: (value: String, param: String)?
    /// Class label, seed, steps, guidance and temperatures, preview kind.
    var sampling = SamplingFields()
    /// 0-based steps that get a frame (jobs only; the OpenAI endpoint derives them from `partial_images`).
    var previewSteps: [Int]? = nil

    /// A validated request template (the seed varies per image).
    struct Resolved: Sendable {
        var model: LoadedModel
        var condition: GenerationCondition
        var settings: SamplerSettings
        var seed: UInt64
        var preview: PreviewMode?
        var previewSteps: Set<Int>?
        var promptTokens: Int

        /// The scheduler request of the `index`-th image (seed + index).
        func request(
            index: Int, preview: PreviewMode, previewSteps: Set<Int>?, deadline: ContinuousClock.Instant, owner: String? = nil,
            edit: ImageEdit? = nil
        ) -> GenerationRequest {
            GenerationRequest(
                model: model.id, condition: condition, seed: seed &+ UInt64(index), settings: settings,
                preview: preview, previewSteps: previewSteps, deadline: deadline, owner: owner, edit: edit)
        }
    }

    /// Settings, class label and caption are checked by the engine's `SamplerLimits` (narrowed
    /// by `configuration.maxSteps`); its errors become 400s naming the wire parameter.
    func resolve(models: [LoadedModel], configuration: APIConfiguration) throws(APIError) -> Resolved {
        let limits = SamplerLimits.engine.narrowed(maxSteps: configuration.maxSteps)
        if let (value, param) = text {
            // Any text, class names too, before it is looked up or compared with class names.
            do {
                try limits.checkCaptionLength(value)
            } catch {
                throw APIError.setting(error, model: model ?? "", textParam: param)
            }
        }
        let model = try chooseModel(models)
        let condition: GenerationCondition
        let limitedCondition: SamplerCondition
        var promptTokens = 1
        switch model.kind {
        case .classConditional:
            let label: Int
            if let given = sampling.classLabel {
                label = given
            } else if let (value, param) = text {
                guard let named = model.classLabel(for: value.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                    throw Self.unknownClass(value, param: param, in: [model])
                }
                label = named
            } else {
                throw APIError.invalid(
                    "prompt", "Missing required parameter: 'prompt' (a class name of model '\(model.id)').", code: "missing_required_parameter")
            }
            condition = .classLabel(label)
            limitedCondition = .classLabel(label, classCount: model.configuration.transformer.numClasses)
        case .caption:
            guard let (value, _) = text else {
                throw APIError.invalid(
                    "prompt", "Missing required parameter: 'prompt' (a caption for model '\(model.id)').", code: "missing_required_parameter")
            }
            condition = .caption(value)
            limitedCondition = .caption(value)
            // CLIP always encodes its full 77-token context.
            promptTokens = 77
        }
        var settings = model.defaultSettings
        if let steps = sampling.steps { settings.steps = steps }
        if let guidanceScale = sampling.guidanceScale { settings.guidanceScale = guidanceScale }
        if let maskTemperature = sampling.maskTemperature { settings.maskTemperature = maskTemperature }
        if let sampleTemperature = sampling.sampleTemperature { settings.sampleTemperature = sampleTemperature }
        do {
            try limits.validate(settings, condition: limitedCondition)
        } catch {
            throw APIError.setting(error, model: model.id, textParam: text?.param ?? "prompt")
        }
        var previewMode: PreviewMode?
        if let preview = sampling.preview {
            guard let mode = PreviewMode(rawValue: preview.lowercased()) else {
                throw APIError.invalid(
                    "preview", "'preview' must be one of \(PreviewMode.allCases.map(\.rawValue).joined(separator: ", ")); got '\(preview)'.")
            }
            previewMode = mode
        }
        var frameSteps: Set<Int>?
        if let previewSteps {
            if let bad = previewSteps.first(where: { !(0..<settings.steps).contains($0) }) {
                throw APIError.previewStep(bad, steps: settings.steps)
            }
            frameSteps = Set(previewSteps)
        }
        return Resolved(
            model: model, condition: condition, settings: settings, seed: sampling.seed ?? RandomSeed.draw(),
            preview: previewMode, previewSteps: frameSteps, promptTokens: promptTokens)
    }

    /// The model a request addresses. `model` names it. Without a name: `class` and
    /// `class_label` address class models only (the first that knows the class), `caption` the
    /// first caption model, and `prompt` the first class model that knows it as a class name,
    /// synonym or number, else the first caption model, else the first model.
    private func chooseModel(_ models: [LoadedModel]) throws(APIError) -> LoadedModel {
        let param = text?.param
        let wantsClass = sampling.classLabel != nil || param == "class"
        if let model {
            guard let found = models.first(where: { $0.id == model }) else {
                throw APIError.invalid(
                    "model", "The model '\(model)' does not exist; available: \(models.map(\.id).joined(separator: ", ")).", code: "model_not_found")
            }
            if wantsClass && found.kind == .caption {
                throw APIError.invalid(
                    sampling.classLabel != nil ? "class_label" : "class",
                    "Model '\(found.id)' takes a caption, not a class; send 'caption' or 'prompt'.", code: "model_takes_caption")
            }
            if param == "caption" && found.kind == .classConditional {
                throw APIError.invalid(
                    "caption", "Model '\(found.id)' takes a class, not a caption; send 'class' or 'prompt'.", code: "model_takes_class")
            }
            return found
        }
        guard let first = models.first else { throw APIError.shuttingDown() }
        let classModels = models.filter { $0.kind == .classConditional }
        let captionModels = models.filter { $0.kind == .caption }
        let trimmed = text?.value.trimmingCharacters(in: .whitespacesAndNewlines)
        if wantsClass {
            guard let firstClassModel = classModels.first else {
                throw APIError.invalid(
                    sampling.classLabel != nil ? "class_label" : "class",
                    "No class model is loaded (models: \(models.map(\.id).joined(separator: ", "))); send 'caption' or 'prompt'.",
                    code: "no_class_model")
            }
            guard let trimmed, sampling.classLabel == nil else { return firstClassModel }
            if let known = classModels.first(where: { $0.classLabel(for: trimmed) != nil }) { return known }
            throw Self.unknownClass(trimmed, param: "class", in: classModels)
        }
        if param == "caption" {
            guard let captionModel = captionModels.first else {
                throw APIError.invalid(
                    "caption", "No caption model is loaded (models: \(models.map(\.id).joined(separator: ", "))); send 'class' or 'prompt'.",
                    code: "no_caption_model")
            }
            return captionModel
        }
        if let trimmed, let known = classModels.first(where: { $0.classLabel(for: trimmed) != nil }) { return known }
        return captionModels.first ?? first
    }

    /// 400 `unknown_class` with the closest class names of `models`, if any are close.
    static func unknownClass(_ text: String, param: String, in models: [LoadedModel]) -> APIError {
        let suggestions = models.flatMap { $0.classSuggestions(for: text) }
        var seen = Set<String>()
        let unique = suggestions.filter { seen.insert($0).inserted }.prefix(3)
        let names = models.map { "'\($0.id)'" }.joined(separator: ", ")
        var message = "'\(text)' is not a class of \(models.count == 1 ? "model" : "models") \(names)"
        if !unique.isEmpty { message += "; did you mean \(unique.map { "'\($0)'" }.joined(separator: " or "))?" } else { message += "." }
        message += " GET /v1/models lists the classes (a name, a synonym or the class number)."
        return APIError.invalid(param, message, code: "unknown_class")
    }
}

extension GenerationParameters {
    init(_ body: ImageGenerationBody) {
        self.init(model: body.model, text: body.prompt.map { ($0, "prompt") }, sampling: body.sampling)
    }

    init(_ body: JobBody) throws(APIError) {
        let texts = [(body.prompt, "prompt"), (body.class, "class"), (body.caption, "caption")].compactMap { pair in
            pair.0.map { (value: $0, param: pair.1) }
        }
        guard texts.count <= 1 else {
            throw APIError.invalid(texts[1].param, "Give only one of 'prompt', 'class' and 'caption'.")
        }
        self.init(model: body.model, text: texts.first, sampling: body.sampling, previewSteps: body.previewSteps)
    }
}

extension APIError {
    /// The answer to a refused submission.
    static func submit(_ error: SubmitError) -> APIError {
        switch error {
        case .unknownModel(let id):
            return .invalid("model", "The model '\(id)' does not exist.", code: "model_not_found")
        case .invalidSetting(let model, let error):
            return .setting(error, model: model, textParam: "caption")
        case .conditionMismatch(let model, .caption):
            return .invalid(
                SamplingFields.Key.classLabel.rawValue, "Model '\(model)' takes a caption, not a class; send 'caption' or 'prompt'.",
                code: "model_takes_caption")
        case .conditionMismatch(let model, .classConditional):
            return .invalid("caption", "Model '\(model)' takes a class, not a caption; send 'class' or 'prompt'.", code: "model_takes_class")
        case .previewStep(let step, let steps):
            return previewStep(step, steps: steps)
        case .queueFull(let retryAfter):
            return .queueFull(retryAfter: retryAfter)
        case .shuttingDown:
            return .shuttingDown()
        }
    }

    /// 400 for a setting outside the sampler's limits, naming its wire parameter; a caption's is
    /// `textParam` (the parameter the text came in: `prompt`, `class` or `caption`).
    static func setting(_ error: SamplerSettingError, model: String, textParam: String) -> APIError {
        func outside(_ key: SamplingFields.Key, _ value: Double, _ allowed: ClosedRange<Double>) -> APIError {
            let name = key.rawValue
            guard value.isFinite else { return .invalid(name, "'\(name)' must be a finite number.") }
            let (low, high) = (SamplerSettingError.format(allowed.lowerBound), SamplerSettingError.format(allowed.upperBound))
            return .invalid(name, "'\(name)' must be between \(low) and \(high); got \(SamplerSettingError.format(value)).")
        }
        switch error {
        case .steps(let steps, let allowed):
            return .invalid(
                SamplingFields.Key.steps.rawValue, "'steps' must be between \(allowed.lowerBound) and \(allowed.upperBound); got \(steps).")
        case .guidanceScale(let value, let allowed):
            return outside(.guidanceScale, value, allowed)
        case .maskTemperature(let value, let allowed):
            return outside(.maskTemperature, value, allowed)
        case .sampleTemperature(let value, let allowed):
            return outside(.sampleTemperature, value, allowed)
        case .classLabel(let label, let allowed):
            let name = SamplingFields.Key.classLabel.rawValue
            guard let last = allowed.last else { return .invalid(name, "Model '\(model)' has no classes; got '\(name)' \(label).") }
            return .invalid(name, "'\(name)' must be between \(allowed.lowerBound) and \(last) for model '\(model)'; got \(label).")
        case .captionLength(let scalars, let limit):
            return .invalid(
                textParam, "'\(textParam)' is too long: \(scalars) characters (Unicode scalars), at most \(limit).",
                code: "string_above_max_length")
        case .captionEmpty:
            return .invalid(textParam, "'\(textParam)' must not be empty.", code: "empty_string")
        }
    }

    /// 400 for a preview step that is not a step of the run.
    static func previewStep(_ step: Int, steps: Int) -> APIError {
        .invalid("preview_steps", "'preview_steps' are 0-based steps below 'steps' (\(steps)); got \(step).")
    }

    /// The answer for a job that ended without an image.
    static func generation(_ failure: GenerationFailure) -> APIError {
        switch failure {
        case .cancelled:
            return APIError(status: HTTPStatus(code: 410), message: "The job was cancelled.", type: "invalid_request_error", code: "job_cancelled")
        case .deadlineExceeded:
            return APIError(
                status: HTTPStatus(code: 504), message: "The job passed its deadline before it finished.", type: "server_error",
                code: "deadline_exceeded")
        case .shuttingDown:
            return .shuttingDown()
        case .engine(let message):
            return APIError(status: .internalServerError, message: "Generation failed: \(message)", type: "server_error", code: "engine_error")
        }
    }
}
