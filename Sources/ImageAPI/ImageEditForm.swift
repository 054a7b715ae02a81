import Foundation
import HTTPServer

/// The form of `POST /v1/images/edits` (OpenAI's Images API sends it as `multipart/form-data`):
/// the uploads, and every other field read with the same strictness as a JSON body. Text
/// fields are typed by name (a number field must hold a number), turned into a JSON object and
/// read by `JSONFields`, so both endpoints share one set of rules and messages.
struct ImageEditForm: Sendable {
    /// The OpenAI parameters and our sampling extensions.
    var body: ImageGenerationBody
    /// The image to edit (`image`, or one `image[]`).
    var image: Upload
    /// Optional mask: transparent pixels are regenerated.
    var mask: Upload?
    /// Extension: without a mask, the share of the image's tokens to regenerate (a variation).
    var strength: Double?

    struct Upload: Sendable {
        /// The form field it came in, for error messages.
        var param: String
        var bytes: [UInt8]
    }

    /// Fields that are numbers or booleans on the wire of the JSON endpoints.
    private static let integers: Set<String> = ["n", "partial_images", "output_compression", "steps", "class_label", "seed"]
    private static let numbers: Set<String> = ["guidance_scale", "mask_temperature", "sample_temperature", "strength"]
    private static let booleans: Set<String> = ["stream"]
    private static let files: Set<String> = ["image", "image[]", "mask"]
    /// `style` is DALL-E 3's and generations only, as in OpenAI's API.
    static let textKeys = ImageGenerationBody.allowedKeys.subtracting(["style"]).union(["strength"])

    init(_ request: HTTPRequest, limits: MultipartLimits) throws(APIError) {
        guard let contentType = request.headers["Content-Type"],
            contentType.lowercased().hasPrefix("multipart/form-data")
        else {
            throw APIError(
                status: .unsupportedMediaType,
                message: "Send the edit as multipart/form-data (fields 'image', 'mask', 'prompt', ...), as OpenAI's SDK does.",
                type: "invalid_request_error", code: "unsupported_media_type")
        }
        let parts: [MultipartPart]
        do {
            parts = try MultipartParser.parse(request.body, contentType: contentType, limits: limits)
        } catch {
            throw APIError(
                status: error.isSizeLimit ? .contentTooLarge : .badRequest, message: "Malformed form: \(error).",
                type: "invalid_request_error", param: nil, code: error.isSizeLimit ? "form_too_large" : "invalid_form")
        }
        var images: [Upload] = []
        var mask: Upload?
        var object: [String: String] = [:]  // name: JSON literal
        for part in parts {
            if Self.files.contains(part.name) {
                let upload = Upload(param: part.name, bytes: part.body)
                if part.name == "mask" {
                    guard mask == nil else { throw APIError.invalid("mask", "Send at most one 'mask'.") }
                    mask = upload
                } else {
                    images.append(upload)
                }
                continue
            }
            guard Self.textKeys.contains(part.name) else {
                throw APIError.invalid(part.name, "Unrecognized request argument supplied: \(part.name).", code: "unknown_parameter")
            }
            guard object[part.name] == nil else { throw APIError.invalid(part.name, "Form field '\(part.name)' is given more than once.") }
            guard let text = part.text else { throw APIError.invalid(part.name, "Form field '\(part.name)' must be UTF-8 text.") }
            object[part.name] = try Self.typed(text, name: part.name)
        }
        guard let image = images.first else {
            throw APIError.invalid(
                "image", "Missing required parameter: 'image' (the image to edit, PNG, JPEG or WebP).", code: "missing_required_parameter")
        }
        guard images.count == 1 else {
            throw APIError.invalid(image.param, "This server edits one image per request; got \(images.count).")
        }
        // Names are from `textKeys` (plain ASCII); values are checked literals or encoded strings.
        let json = "{" + object.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",") + "}"
        let fields = try JSONFields(parsing: Array(json.utf8), allowedKeys: Self.textKeys)
        body = try ImageGenerationBody(fields: fields)
        strength = try fields.double("strength")
        self.image = image
        self.mask = mask
    }

    /// A form value as a JSON literal of the type its name has.
    private static func typed(_ text: String, name: String) throws(APIError) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if integers.contains(name) {
            // Seeds span 0...2^64-1, and -1 asks for a random one: the digits go to JSON as they are.
            if let value = Int64(trimmed) { return String(value) }
            if let value = UInt64(trimmed) { return String(value) }
            throw APIError.invalid(name, "'\(name)' must be an integer; got '\(text)'.", code: "invalid_type")
        }
        if numbers.contains(name) {
            guard let value = Double(trimmed), value.isFinite else {
                throw APIError.invalid(name, "'\(name)' must be a finite number; got '\(text)'.", code: "invalid_type")
            }
            return String(value)
        }
        if booleans.contains(name) {
            switch trimmed.lowercased() {
            case "true": return "true"
            case "false": return "false"
            default: throw APIError.invalid(name, "'\(name)' must be true or false; got '\(text)'.", code: "invalid_type")
            }
        }
        return String(decoding: JSON.encode(text), as: UTF8.self)
    }
}
