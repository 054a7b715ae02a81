import Foundation
import HTTPServer

/// A `multipart/form-data` request body read as the JSON endpoints read theirs: its file parts
/// kept as uploads, every other part typed by its name (a number field must hold a number),
/// turned into a JSON object and read by `JSONFields`, so a form and a JSON body share one set
/// of rules and messages. `POST /v1/images/edits` and `POST /v1/jobs` take forms.
struct FormFields {
    /// The file parts, in order.
    var uploads: [Upload]
    /// Every other part, as the fields of a JSON body.
    var fields: JSONFields

    /// One uploaded file.
    struct Upload: Sendable {
        /// The form field (or JSON key) it came in, for error messages.
        var param: String
        var bytes: [UInt8]
    }

    /// Whether the request carries a form (else it is JSON, or nothing this API reads).
    static func isForm(_ request: HTTPRequest) -> Bool {
        request.headers["Content-Type"]?.lowercased().hasPrefix("multipart/form-data") ?? false
    }

    /// Parts named in `files` are uploads; the others must be in `allowedKeys`, each once.
    init(_ request: HTTPRequest, limits: MultipartLimits, files: Set<String>, allowedKeys: Set<String>) throws(APIError) {
        let parts: [MultipartPart]
        do {
            parts = try MultipartParser.parse(request.body, contentType: request.headers["Content-Type"] ?? "", limits: limits)
        } catch {
            throw APIError(
                status: error.isSizeLimit ? .contentTooLarge : .badRequest, message: "Malformed form: \(error).",
                type: "invalid_request_error", param: nil, code: error.isSizeLimit ? "form_too_large" : "invalid_form")
        }
        var uploads: [Upload] = []
        var object: [String: String] = [:]  // name: JSON literal
        for part in parts {
            if files.contains(part.name) {
                uploads.append(Upload(param: part.name, bytes: part.body))
                continue
            }
            guard allowedKeys.contains(part.name) else {
                throw APIError.invalid(part.name, "Unrecognized request argument supplied: \(part.name).", code: "unknown_parameter")
            }
            guard object[part.name] == nil else { throw APIError.invalid(part.name, "Form field '\(part.name)' is given more than once.") }
            guard let text = part.text else { throw APIError.invalid(part.name, "Form field '\(part.name)' must be UTF-8 text.") }
            object[part.name] = try Self.typed(text, name: part.name)
        }
        // Names are from `allowedKeys` (plain ASCII); values are checked literals or encoded strings.
        let json = "{" + object.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",") + "}"
        self.uploads = uploads
        self.fields = try JSONFields(parsing: Array(json.utf8), allowedKeys: allowedKeys)
    }

    /// Fields that are numbers, booleans or lists of integers on the wire of the JSON endpoints;
    /// every other field is a string.
    private static let integers: Set<String> = ["n", "partial_images", "output_compression", "steps", "class_label", "seed"]
    private static let numbers: Set<String> = ["guidance_scale", "mask_temperature", "sample_temperature", "strength"]
    private static let booleans: Set<String> = ["stream"]
    /// Comma-separated in a form, as in a query string: `preview_steps=0,3,7`.
    private static let integerLists: Set<String> = ["preview_steps"]

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
            return String(try QueryValue.number(trimmed, name))
        }
        if booleans.contains(name) {
            switch trimmed.lowercased() {
            case "true": return "true"
            case "false": return "false"
            default: throw APIError.invalid(name, "'\(name)' must be true or false; got '\(text)'.", code: "invalid_type")
            }
        }
        if integerLists.contains(name) {
            return "[" + (try QueryValue.integers(trimmed, name)).map(String.init).joined(separator: ",") + "]"
        }
        return String(decoding: JSON.encode(text), as: UTF8.self)
    }
}
