import Foundation
import HTTPServer

/// What makes a request an edit: the image, an optional mask and `strength`, as sent (not yet
/// decoded). `POST /v1/images/edits` takes them as form uploads; `POST /v1/jobs` as uploads too,
/// or in its JSON body as base64 (plain or a `data:` URL). `ImageAPI.imageEdit` checks and
/// decodes them once the model is known.
struct EditInputs: Sendable {
    /// The image to edit (`image`, or one `image[]`).
    var image: FormFields.Upload
    /// Optional mask: transparent pixels are regenerated.
    var mask: FormFields.Upload?
    /// Extension: without a mask, the share of the image's tokens to regenerate (a variation).
    var strength: Double?

    /// The form parts that are files.
    static let formFiles: Set<String> = ["image", "image[]", "mask"]
    /// The keys of a JSON body that carry an edit.
    static let jsonKeys: Set<String> = ["image", "mask", "strength"]

    /// The edit of a form: nil when nothing in it asks for one.
    static func from(uploads: [FormFields.Upload], strength: Double?) throws(APIError) -> EditInputs? {
        guard !uploads.isEmpty || strength != nil else { return nil }
        let masks = uploads.filter { $0.param == "mask" }
        let images = uploads.filter { $0.param != "mask" }
        guard masks.count <= 1 else { throw APIError.invalid("mask", "Send at most one 'mask'.") }
        guard let image = images.first else { throw missingImage }
        guard images.count == 1 else {
            throw APIError.invalid(image.param, "This server edits one image per request; got \(images.count).")
        }
        return EditInputs(image: image, mask: masks.first, strength: strength)
    }

    /// The edit of a JSON body, whose `image` and `mask` are base64 strings: nil when nothing in
    /// it asks for one. A decoded file larger than `maxBytes` is a 413, as in a form.
    static func from(fields: JSONFields, maxBytes: Int) throws(APIError) -> EditInputs? {
        var uploads: [FormFields.Upload] = []
        for param in ["image", "mask"] {
            guard let text = try fields.string(param) else { continue }
            uploads.append(FormFields.Upload(param: param, bytes: try base64(text, param: param, maxBytes: maxBytes)))
        }
        return try from(uploads: uploads, strength: try fields.double("strength"))
    }

    /// A file sent as base64 in JSON: plain (line breaks allowed) or a `data:<type>;base64,` URL.
    static func base64(_ text: String, param: String, maxBytes: Int) throws(APIError) -> [UInt8] {
        var payload = Substring(text)
        if payload.hasPrefix("data:") {
            guard let comma = payload.firstIndex(of: ","), payload[..<comma].hasSuffix(";base64") else {
                throw APIError.invalid(
                    param, "'\(param)' is a data: URL without base64 data; send 'data:image/png;base64,...' or plain base64.",
                    code: "invalid_base64")
            }
            payload = payload[payload.index(after: comma)...]
        }
        let compact = payload.utf8.filter { !Self.whitespace.contains($0) }
        // Checked on the text, before anything is decoded: 4 characters carry 3 bytes.
        guard compact.count / 4 * 3 <= maxBytes + 3 else { throw tooLarge(param, maxBytes: maxBytes) }
        guard let data = Data(base64Encoded: Data(compact)) else {
            throw APIError.invalid(param, "'\(param)' must be base64 (or a data: URL) of a PNG, JPEG or WebP file.", code: "invalid_base64")
        }
        guard data.count <= maxBytes else { throw tooLarge(param, maxBytes: maxBytes) }
        return Array(data)
    }

    static let missingImage = APIError.invalid(
        "image", "Missing required parameter: 'image' (the image to edit, PNG, JPEG or WebP).", code: "missing_required_parameter")

    /// What `base64` wraps its lines with.
    private static let whitespace: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D]

    private static func tooLarge(_ param: String, maxBytes: Int) -> APIError {
        APIError(
            status: .contentTooLarge, message: "'\(param)' exceeds the upload limit of \(maxBytes) bytes.", type: "invalid_request_error",
            param: param, code: "upload_too_large")
    }
}
