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
    /// The JPEG/WebP quality; accepted and without effect for PNG, as OpenAI documents it.
    var outputCompression: Int?
    var moderation: String?
    var style: String?
    var user: String?
    var safetyIdentifier: String?
    /// Extensions: class label, seed, steps, guidance and temperatures, preview kind.
    var sampling: SamplingFields

    enum CodingKeys: String, CodingKey, CaseIterable {
        case prompt, model, n, size, quality, background, stream, moderation, style, user
        case responseFormat = "response_format"
        case outputFormat = "output_format"
        case partialImages = "partial_images"
        case outputCompression = "output_compression"
        case safetyIdentifier = "safety_identifier"
    }

    static let allowedKeys = Set(CodingKeys.allCases.map(\.rawValue)).union(SamplingFields.keys)

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
        sampling = try SamplingFields(fields: fields)
    }
}

/// The body of `POST /v1/jobs` (and, as query parameters, `GET /v1/jobs/new`).
struct JobBody: StrictRequestBody, Sendable {
    var model: String?
    /// Class name (class models) or caption (caption models), as for the Images API.
    var prompt: String?
    /// Class name or id; same as `prompt` for a class model.
    var `class`: String?
    var caption: String?
    /// Class label, seed, steps, guidance and temperatures, preview kind.
    var sampling = SamplingFields()
    /// 0-based steps that get a preview frame (all when absent).
    var previewSteps: [Int]?
    /// The image's file format and its JPEG/WebP quality (`OutputImageFormat`), for frames too.
    var outputFormat: String?
    var outputCompression: Int?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case model, prompt, `class`, caption
        case previewSteps = "preview_steps"
        case outputFormat = "output_format"
        case outputCompression = "output_compression"
    }

    static let allowedKeys = Set(CodingKeys.allCases.map(\.rawValue)).union(SamplingFields.keys)

    init() {}

    init(fields: JSONFields) throws(APIError) {
        model = try fields.string("model")
        prompt = try fields.string("prompt")
        `class` = try fields.string("class")
        caption = try fields.string("caption")
        sampling = try SamplingFields(fields: fields)
        previewSteps = try fields.ints("preview_steps")
        outputFormat = try fields.string("output_format")
        outputCompression = try fields.int("output_compression")
    }

    /// Reads the same parameters from a query string (`GET /v1/jobs/new?model=..&class=..`), with
    /// the same strictness: unknown names, repeated names and malformed numbers are 400s.
    init(query: [(name: String, value: String?)], ignoring: Set<String> = ["stream"]) throws(APIError) {
        var seen = Set<String>()
        for item in query where !ignoring.contains(item.name) {
            let samplingKey = SamplingFields.Key(rawValue: item.name), key = CodingKeys(rawValue: item.name)
            guard samplingKey != nil || key != nil else {
                throw APIError.invalid(item.name, "Unrecognized query parameter: \(item.name).", code: "unknown_parameter")
            }
            guard seen.insert(item.name).inserted else {
                throw APIError.invalid(item.name, "Query parameter '\(item.name)' is given more than once.")
            }
            let value = item.value ?? ""
            switch key {
            case .model: model = value
            case .prompt: prompt = value
            case .class: `class` = value
            case .caption: caption = value
            case .previewSteps: previewSteps = try QueryValue.integers(value, item.name)
            case .outputFormat: outputFormat = value
            case .outputCompression: outputCompression = try QueryValue.integer(value, item.name)
            case nil: try sampling.set(samplingKey!, query: value)
            }
        }
    }
}
