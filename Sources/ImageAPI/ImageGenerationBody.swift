/// The body of `POST /v1/images/generations`: OpenAI's Images API parameters plus our extensions
/// (which the `openai` SDK sends through `extra_body`).
struct ImageGenerationBody: StrictRequestBody, Sendable {
    var prompt: String?
    var model: String?
    var n: Int?
    var size: String?
    var responseFormat: String?
    var outputFormat: String?
    var quality: String?
    var background: String?
    var stream: Bool?
    var partialImages: Int?
    /// Accepted for compatibility, no effect on a PNG.
    var outputCompression: Int?
    var moderation: String?
    var style: String?
    var user: String?
    var safetyIdentifier: String?
    // Extensions.
    var classLabel: Int?
    var seed: UInt64?
    var steps: Int?
    var guidanceScale: Double?
    var maskTemperature: Double?
    var sampleTemperature: Double?
    var preview: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case prompt, model, n, size, quality, background, stream, moderation, style, user, seed, steps, preview
        case responseFormat = "response_format"
        case outputFormat = "output_format"
        case partialImages = "partial_images"
        case outputCompression = "output_compression"
        case safetyIdentifier = "safety_identifier"
        case classLabel = "class_label"
        case guidanceScale = "guidance_scale"
        case maskTemperature = "mask_temperature"
        case sampleTemperature = "sample_temperature"
    }

    static let allowedKeys = Set(CodingKeys.allCases.map(\.rawValue))

    init(fields: JSONFields) throws(APIError) {
        prompt = try fields.string("prompt")
        model = try fields.string("model")
        n = try fields.int("n")
        size = try fields.string("size")
        responseFormat = try fields.string("response_format")
        outputFormat = try fields.string("output_format")
        quality = try fields.string("quality")
        background = try fields.string("background")
        stream = try fields.bool("stream")
        partialImages = try fields.int("partial_images")
        outputCompression = try fields.int("output_compression")
        moderation = try fields.string("moderation")
        style = try fields.string("style")
        user = try fields.string("user")
        safetyIdentifier = try fields.string("safety_identifier")
        classLabel = try fields.int("class_label")
        seed = try fields.uint64("seed")
        steps = try fields.int("steps")
        guidanceScale = try fields.double("guidance_scale")
        maskTemperature = try fields.double("mask_temperature")
        sampleTemperature = try fields.double("sample_temperature")
        preview = try fields.string("preview")
    }
}

/// The body of `POST /v1/jobs` (and, as query parameters, `GET /v1/jobs/new`).
struct JobBody: StrictRequestBody, Sendable {
    var model: String?
    /// Class name (class models) or caption (caption models), as for the Images API.
    var prompt: String?
    /// Class name or id; same as `prompt` for a class model.
    var `class`: String?
    var classLabel: Int?
    var caption: String?
    var seed: UInt64?
    var steps: Int?
    var guidanceScale: Double?
    var maskTemperature: Double?
    var sampleTemperature: Double?
    var preview: String?
    /// 0-based steps that get a preview frame (all when absent).
    var previewSteps: [Int]?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, prompt, `class`, caption, seed, steps, preview
        case classLabel = "class_label"
        case previewSteps = "preview_steps"
        case guidanceScale = "guidance_scale"
        case maskTemperature = "mask_temperature"
        case sampleTemperature = "sample_temperature"
    }

    static let allowedKeys = Set(CodingKeys.allCases.map(\.rawValue))

    init() {}

    init(fields: JSONFields) throws(APIError) {
        model = try fields.string("model")
        prompt = try fields.string("prompt")
        `class` = try fields.string("class")
        caption = try fields.string("caption")
        classLabel = try fields.int("class_label")
        seed = try fields.uint64("seed")
        steps = try fields.int("steps")
        guidanceScale = try fields.double("guidance_scale")
        maskTemperature = try fields.double("mask_temperature")
        sampleTemperature = try fields.double("sample_temperature")
        preview = try fields.string("preview")
        previewSteps = try fields.ints("preview_steps")
    }

    /// Reads the same parameters from a query string (`GET /v1/jobs/new?model=..&class=..`), with
    /// the same strictness: unknown names, repeated names and malformed numbers are 400s.
    init(query: [(name: String, value: String?)], ignoring: Set<String> = ["stream"]) throws(APIError) {
        var seen = Set<String>()
        for item in query where !ignoring.contains(item.name) {
            guard let key = CodingKeys(rawValue: item.name) else {
                throw APIError.invalid(item.name, "Unrecognized query parameter: \(item.name).", code: "unknown_parameter")
            }
            guard seen.insert(item.name).inserted else {
                throw APIError.invalid(item.name, "Query parameter '\(item.name)' is given more than once.")
            }
            let value = item.value ?? ""
            func integer<T: FixedWidthInteger>(_: T.Type) throws(APIError) -> T {
                guard let number = T(value) else { throw APIError.invalid(item.name, "'\(item.name)' must be an integer; got '\(value)'.", code: "invalid_type") }
                return number
            }
            func number() throws(APIError) -> Double {
                guard let number = Double(value), number.isFinite else {
                    throw APIError.invalid(item.name, "'\(item.name)' must be a finite number; got '\(value)'.", code: "invalid_type")
                }
                return number
            }
            switch key {
            case .model: model = value
            case .prompt: prompt = value
            case .class: `class` = value
            case .caption: caption = value
            case .preview: preview = value
            case .seed: seed = try integer(UInt64.self)
            case .steps: steps = try integer(Int.self)
            case .classLabel: classLabel = try integer(Int.self)
            case .guidanceScale: guidanceScale = try number()
            case .maskTemperature: maskTemperature = try number()
            case .sampleTemperature: sampleTemperature = try number()
            case .previewSteps:
                // A comma-separated list: `preview_steps=0,3,7`.
                previewSteps = try value.split(separator: ",", omittingEmptySubsequences: false).map { part throws(APIError) -> Int in
                    guard let step = Int(part.trimmingCharacters(in: .whitespaces)) else {
                        throw APIError.invalid(item.name, "'preview_steps' must be comma-separated integers; got '\(value)'.", code: "invalid_type")
                    }
                    return step
                }
            }
        }
    }
}
