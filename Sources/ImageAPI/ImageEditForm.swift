import HTTPServer

/// The form of `POST /v1/images/edits` (OpenAI's Images API sends it as `multipart/form-data`):
/// the edit's uploads, and every other field read with the same strictness as a JSON body
/// (`FormFields`), so both endpoints share one set of rules and messages.
struct ImageEditForm: Sendable {
    /// The OpenAI parameters and our sampling extensions.
    var body: ImageGenerationBody
    /// The image, the mask and `strength`.
    var edit: EditInputs

    /// `style` is DALL-E 3's and generations only, as in OpenAI's API.
    static let textKeys = ImageGenerationBody.allowedKeys.subtracting(["style"]).union(["strength"])

    init(_ request: HTTPRequest, limits: MultipartLimits) throws(APIError) {
        guard FormFields.isForm(request) else {
            throw APIError(
                status: .unsupportedMediaType,
                message: "Send the edit as multipart/form-data (fields 'image', 'mask', 'prompt', ...), as OpenAI's SDK does.",
                type: "invalid_request_error", code: "unsupported_media_type")
        }
        let form = try FormFields(request, limits: limits, files: EditInputs.formFiles, allowedKeys: Self.textKeys)
        let strength = try form.fields.double("strength")
        guard let edit = try EditInputs.from(uploads: form.uploads, strength: strength) else {
            throw EditInputs.missingImage
        }
        body = try ImageGenerationBody(fields: form.fields)
        self.edit = edit
    }
}
