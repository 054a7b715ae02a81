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
        let side = model.imageSize
        let image = try decode(inputs.image, limits: limits)
        let region: ImageEdit.Region
        var param = "mask"
        if let upload = inputs.mask {
            guard inputs.strength == nil else {
                throw APIError.invalid("strength", "'strength' makes a variation of an image without a mask; with a 'mask' the mask decides.")
            }
            let mask = try decode(upload, limits: limits)
            guard mask.width == image.width, mask.height == image.height else {
                throw APIError.invalid(
                    "mask", "The mask must have the image's dimensions (\(image.width)x\(image.height)); got \(mask.width)x\(mask.height).")
            }
            guard mask.hasAlpha else {
                throw APIError.invalid("mask", "The mask needs an alpha channel: its fully transparent pixels mark what to regenerate.")
            }
            region = .pixels(transparentPixels(of: mask, fittedTo: side))
        } else if let strength = inputs.strength {
            region = .strength(strength)
            param = "strength"
        } else if image.hasAlpha, case let pixels = transparentPixels(of: image, fittedTo: side), pixels.contains(true) {
            // As OpenAI's API: without a mask, the image's own transparency is the mask.
            param = "image"
            region = .pixels(pixels)
        } else {
            throw APIError.invalid(
                "mask",
                "Say what to regenerate: a 'mask' (PNG whose transparent pixels mark it), an image with transparent pixels, or 'strength' (0 to 1) for a variation.",
                code: "missing_required_parameter")
        }
        let edit = ImageEdit(rgb: image.fittedToSquare(side: side).rgb.pixels, region: region)
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

    /// Which pixels of the `side x side` model image are regenerated: those whose area, after
    /// the centre-square crop and scaling of `fittedToSquare`, holds a fully transparent pixel
    /// of the upload. (Resampling the alpha instead would let a thin stroke fade away.)
    static func transparentPixels(of image: DecodedImage, fittedTo side: Int) -> [Bool] {
        let square = min(image.width, image.height)
        let left = (image.width - square) / 2, top = (image.height - square) / 2
        var regenerate = [Bool](repeating: false, count: side * side)
        // Source column/row `i` of the square covers model pixels [i*side/square, ceil((i+1)*side/square)).
        func span(_ i: Int) -> Range<Int> { (i * side / square)..<max(i * side / square + 1, ((i + 1) * side + square - 1) / square) }
        image.pixels.withUnsafeBufferPointer { rgba in
            for y in 0..<square {
                let rows = span(y)
                for x in 0..<square where rgba[((top + y) * image.width + left + x) * 4 + 3] == 0 {
                    for row in rows {
                        for column in span(x) { regenerate[row * side + column] = true }
                    }
                }
            }
        }
        return regenerate
    }
}
