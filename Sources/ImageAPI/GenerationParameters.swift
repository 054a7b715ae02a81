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

    func resolve(models: [LoadedModel], configuration: APIConfiguration) throws(APIError) -> Resolved {
        if let (value, param) = text {
            guard value.count <= configuration.maxPromptCharacters else {
                throw APIError.invalid(param, "'\(param)' is too long: \(value.count) characters, at most \(configuration.maxPromptCharacters).", code: "string_above_max_length")
            }
        }
        let model = try chooseModel(models)
        let condition: GenerationCondition
        var promptTokens = 1
        switch model.kind {
        case .classConditional:
            if let label = sampling.classLabel {
                guard (0..<model.classNames.count).contains(label) else {
                    throw APIError.invalid("class_label", "'class_label' must be between 0 and \(model.classNames.count - 1) for model '\(model.id)'; got \(label).")
                }
                condition = .classLabel(label)
            } else if let (value, param) = text {
                guard let label = model.classLabel(for: value.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                    throw Self.unknownClass(value, param: param, in: [model])
                }
                condition = .classLabel(label)
            } else {
                throw APIError.invalid("prompt", "Missing required parameter: 'prompt' (a class name of model '\(model.id)').", code: "missing_required_parameter")
            }
        case .caption:
            guard let (value, param) = text else {
                throw APIError.invalid("prompt", "Missing required parameter: 'prompt' (a caption for model '\(model.id)').", code: "missing_required_parameter")
            }
            guard !value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw APIError.invalid(param, "'\(param)' must not be empty.", code: "empty_string")
            }
            condition = .caption(value)
            // CLIP always encodes its full 77-token context.
            promptTokens = 77
        }
        var settings = model.defaultSettings
        if let steps = sampling.steps {
            guard (1...configuration.maxSteps).contains(steps) else {
                throw APIError.invalid("steps", "'steps' must be between 1 and \(configuration.maxSteps); got \(steps).")
            }
            settings.steps = steps
        }
        try requireFinite(sampling.guidanceScale, "guidance_scale", in: 0...50)
        try requireFinite(sampling.maskTemperature, "mask_temperature", in: 0...100)
        try requireFinite(sampling.sampleTemperature, "sample_temperature", in: 0...100)
        if let guidanceScale = sampling.guidanceScale { settings.guidanceScale = guidanceScale }
        if let maskTemperature = sampling.maskTemperature { settings.maskTemperature = maskTemperature }
        if let sampleTemperature = sampling.sampleTemperature { settings.sampleTemperature = sampleTemperature }
        var previewMode: PreviewMode?
        if let preview = sampling.preview {
            guard let mode = PreviewMode(rawValue: preview.lowercased()) else {
                throw APIError.invalid("preview", "'preview' must be one of \(PreviewMode.allCases.map(\.rawValue).joined(separator: ", ")); got '\(preview)'.")
            }
            previewMode = mode
        }
        var frameSteps: Set<Int>?
        if let previewSteps {
            if let bad = previewSteps.first(where: { !(0..<settings.steps).contains($0) }) {
                throw APIError.invalid("preview_steps", "'preview_steps' are 0-based steps below 'steps' (\(settings.steps)); got \(bad).")
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
                throw APIError.invalid("model", "The model '\(model)' does not exist; available: \(models.map(\.id).joined(separator: ", ")).", code: "model_not_found")
            }
            if wantsClass && found.kind == .caption {
                throw APIError.invalid(
                    sampling.classLabel != nil ? "class_label" : "class",
                    "Model '\(found.id)' takes a caption, not a class; send 'caption' or 'prompt'.", code: "model_takes_caption")
            }
            if param == "caption" && found.kind == .classConditional {
                throw APIError.invalid("caption", "Model '\(found.id)' takes a class, not a caption; send 'class' or 'prompt'.", code: "model_takes_class")
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
                throw APIError.invalid("caption", "No caption model is loaded (models: \(models.map(\.id).joined(separator: ", "))); send 'class' or 'prompt'.", code: "no_caption_model")
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
        case .invalid(let parameter, let message):
            return .invalid(parameter, message)
        case .queueFull(let retryAfter):
            return .queueFull(retryAfter: retryAfter)
        case .shuttingDown:
            return .shuttingDown()
        }
    }

    /// The answer for a job that ended without an image.
    static func generation(_ failure: GenerationFailure) -> APIError {
        switch failure {
        case .cancelled:
            return APIError(status: HTTPStatus(code: 410), message: "The job was cancelled.", type: "invalid_request_error", code: "job_cancelled")
        case .deadlineExceeded:
            return APIError(status: HTTPStatus(code: 504), message: "The job passed its deadline before it finished.", type: "server_error", code: "deadline_exceeded")
        case .shuttingDown:
            return .shuttingDown()
        case .engine(let message):
            return APIError(status: .internalServerError, message: "Generation failed: \(message)", type: "server_error", code: "engine_error")
        }
    }
}
