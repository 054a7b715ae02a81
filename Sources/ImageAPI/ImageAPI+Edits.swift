import HTTPServer
import Imaging
import ModelBundle

/// `POST /v1/images/edits`, as OpenAI's Images API takes it (`client.images.edit(image=...,
/// mask=..., prompt=...)`): the image's tokens outside the mask stay, the masked ones are
/// generated for the prompt, and `stream` shows them being revealed step by step.
extension ImageAPI {
    func editImages(_ request: HTTPRequest, context: RequestContext, owner: String?) async throws(APIError) -> HTTPResponse {
        let form = try ImageEditForm(request, limits: configuration.formLimits)
        let uploadLimits = configuration.uploadLimits
        return try await respondWithImages(form.body, events: "image_edit", request: request, context: context, owner: owner) {
            (model) throws(APIError) in try Self.imageEdit(form.edit, for: model, limits: uploadLimits)
        }
    }

    /// The source image of an edit, at the model's resolution, and what to regenerate: the
    /// mask's transparent pixels, else the image's own, else `strength` of its tokens.
    static func imageEdit(_ inputs: EditInputs, for model: LoadedModel, limits: ImageDecodingLimits) throws(APIError) -> ImageEdit {
        guard model.canEdit else {
            throw APIError.invalid("model", "Model '\(model.id)' cannot edit images: its bundle has no VQGAN encoder.", code: "model_cannot_edit")
        }
        let image = try decode(inputs.image, limits: limits)
        let mask = try inputs.mask.map { (upload) throws(APIError) in try decode(upload, limits: limits) }
        let edit: ImageEdit
        do {
            edit = try ImageEdit(image: image, mask: mask, strength: inputs.strength, side: model.imageSize)
        } catch {
            let message = error.description.prefix(1).uppercased() + error.description.dropFirst() + "."
            throw APIError.invalid(error.input.rawValue, message, code: error.isMissing ? "missing_required_parameter" : "invalid_value")
        }
        let param = inputs.mask != nil ? "mask" : inputs.strength != nil ? "strength" : "image"
        do {
            try model.validate(edit)
        } catch {
            throw APIError.invalid(param, "\(error)")
        }
        return edit
    }

    private static func decode(_ upload: FormFields.Upload, limits: ImageDecodingLimits) throws(APIError) -> DecodedImage {
        do {
            return try ImageDecoder.decode(upload.bytes, limits: limits)
        } catch {
            throw APIError.invalid(upload.param, "'\(upload.param)' is not a usable image: \(error).", code: "invalid_image")
        }
    }
}
