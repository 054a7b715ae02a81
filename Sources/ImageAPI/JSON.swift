import Foundation
import HTTPServer

/// JSON at the edge: request bodies become native types here (strictly), responses are encoded
/// here; nothing inside the server sees JSON.
enum JSON {
    /// Compact, sorted keys (stable output for tests and caches), `/` unescaped (base64 payloads).
    static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .throw
        do {
            return Array(try encoder.encode(value))
        } catch {
            // Our own response types hold only finite numbers and strings; reaching this is a bug.
            preconditionFailure("encoding a response failed: \(error)")
        }
    }

    static func encodeString(_ value: some Encodable) -> String {
        String(decoding: encode(value), as: UTF8.self)
    }

    /// Reads a request body strictly: it must be a JSON object whose keys are all in `T.allowedKeys`
    /// (an unknown key is most likely a typo that would otherwise be silently ignored), whose values
    /// have the declared types (no string for a number, no fraction for an integer) and whose numbers
    /// are finite (see `JSONFields`). Failures name the parameter.
    static func decodeRequest<T: StrictRequestBody>(_ type: T.Type, from request: HTTPRequest) throws(APIError) -> T {
        try T(fields: requestFields(request, allowedKeys: T.allowedKeys))
    }

    /// The top-level fields of a JSON request body, read as `decodeRequest` reads them.
    static func requestFields(_ request: HTTPRequest, allowedKeys: Set<String>) throws(APIError) -> JSONFields {
        if let contentType = request.headers["Content-Type"] {
            let mediaType = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
            guard mediaType == "application/json" || mediaType.hasSuffix("+json") else {
                throw APIError(
                    status: .unsupportedMediaType, message: "Send the request body as JSON with Content-Type: application/json.",
                    type: "invalid_request_error", code: "unsupported_media_type")
            }
        }
        guard !request.body.isEmpty else { throw APIError.invalid(nil, "The request body must be a JSON object.", code: "missing_body") }
        return try JSONFields(parsing: request.body, allowedKeys: allowedKeys)
    }
}

/// A request body type read by `JSON.decodeRequest`.
protocol StrictRequestBody {
    /// Every top-level key the endpoint accepts.
    static var allowedKeys: Set<String> { get }
    init(fields: JSONFields) throws(APIError)
}
