/// OpenAI's Images API response and stream events, with every field the official SDK's models
/// declare (`ImagesResponse`, `ImageGenPartialImageEvent`, `ImageGenCompletedEvent`).
struct ImagesResponseBody: Encodable, Sendable {
    struct Image: Encodable, Sendable {
        var b64Json: String?
        var url: String?
        var revisedPrompt: String?
        /// Extension: the seed that made this image (A1111 and sd.cpp answer it too).
        var seed: UInt64?

        enum CodingKeys: String, CodingKey {
            case url, seed
            case b64Json = "b64_json"
            case revisedPrompt = "revised_prompt"
        }
    }

    var created: Int
    var data: [Image]
    /// Extension: the model that made the images (chosen by the server when the request named none).
    var model: String
    /// Always opaque: the model makes no alpha (`background: transparent` is a 400).
    var background = "opaque"
    /// `png`, `jpeg` or `webp`, as asked.
    var outputFormat = "png"
    /// The tier of `quality` that ran (`auto` and `standard` run `medium`, `hd` runs `high`).
    var quality: String
    /// OpenAI's effective safety identifier (`safety_identifier`, else `user`), echoed; absent without one.
    var safetyIdentifier: String?
    /// The delivered size (resampled from the model's when the request asked for another square).
    var size: String
    var usage: ImageUsage

    enum CodingKeys: String, CodingKey {
        case created, data, model, background, quality, size, usage
        case outputFormat = "output_format"
        case safetyIdentifier = "safety_identifier"
    }
}

/// Token usage: input tokens are the condition (one class label, or CLIP's 77-token context)
/// plus, for an edit, the source image's tokens; output tokens the image tokens generated
/// (latent side squared per image, whatever the delivered size).
struct ImageUsage: Encodable, Sendable {
    struct InputDetails: Encodable, Sendable {
        var imageTokens = 0
        var textTokens: Int

        enum CodingKeys: String, CodingKey {
            case imageTokens = "image_tokens"
            case textTokens = "text_tokens"
        }
    }

    struct OutputDetails: Encodable, Sendable {
        var imageTokens: Int
        var textTokens = 0

        enum CodingKeys: String, CodingKey {
            case imageTokens = "image_tokens"
            case textTokens = "text_tokens"
        }
    }

    var inputTokens: Int
    var inputTokensDetails: InputDetails
    var outputTokens: Int
    var outputTokensDetails: OutputDetails
    var totalTokens: Int

    init(inputTokens: Int, outputTokens: Int) {
        self.init(textTokens: inputTokens, imageTokens: 0, outputTokens: outputTokens)
    }

    /// `textTokens` of the condition, `imageTokens` of an edit's source image.
    init(textTokens: Int, imageTokens: Int, outputTokens: Int) {
        inputTokens = textTokens + imageTokens
        inputTokensDetails = InputDetails(imageTokens: imageTokens, textTokens: textTokens)
        self.outputTokens = outputTokens
        outputTokensDetails = OutputDetails(imageTokens: outputTokens)
        totalTokens = inputTokens + outputTokens
    }

    /// The usage of a request for `count` images: the input is read once, every image is output.
    func times(_ count: Int) -> ImageUsage {
        ImageUsage(
            textTokens: inputTokensDetails.textTokens, imageTokens: inputTokensDetails.imageTokens,
            outputTokens: outputTokens * count)
    }

    enum CodingKeys: String, CodingKey {
        case inputTokens = "input_tokens"
        case inputTokensDetails = "input_tokens_details"
        case outputTokens = "output_tokens"
        case outputTokensDetails = "output_tokens_details"
        case totalTokens = "total_tokens"
    }
}

/// `image_generation.partial_image`.
struct PartialImageEvent: Encodable, Sendable {
    /// `image_generation.partial_image` or `image_edit.partial_image`.
    var type: String
    var b64Json: String
    var background = "opaque"
    var createdAt: Int
    var outputFormat = "png"
    var partialImageIndex: Int
    var quality: String
    var size: String
    /// Extension: which of the `n` images this frame belongs to.
    var imageIndex: Int
    /// Extension: that image's seed.
    var seed: UInt64

    enum CodingKeys: String, CodingKey {
        case type, background, quality, size, seed
        case b64Json = "b64_json"
        case createdAt = "created_at"
        case outputFormat = "output_format"
        case partialImageIndex = "partial_image_index"
        case imageIndex = "image_index"
    }
}

/// `image_generation.completed`.
struct CompletedImageEvent: Encodable, Sendable {
    /// `image_generation.completed` or `image_edit.completed`.
    var type: String
    var b64Json: String
    var background = "opaque"
    var createdAt: Int
    var outputFormat = "png"
    var quality: String
    var size: String
    var usage: ImageUsage
    /// Extension: which of the `n` images this is.
    var imageIndex: Int
    /// Extension: its seed.
    var seed: UInt64
    /// Extension: the model that made it.
    var model: String

    enum CodingKeys: String, CodingKey {
        case type, background, quality, size, usage, seed, model
        case b64Json = "b64_json"
        case createdAt = "created_at"
        case outputFormat = "output_format"
        case imageIndex = "image_index"
    }
}
