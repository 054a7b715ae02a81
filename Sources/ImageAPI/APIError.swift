import DurationSeconds
import HTTPServer

/// An error answered to a client: an HTTP status and OpenAI's error object
/// `{"error": {"message", "type", "param", "code"}}`. The same object travels inside a stream
/// as the data of an error event when the failure comes after the response head.
public struct APIError: Error, Sendable, Equatable {
    public var status: HTTPStatus
    public var message: String
    /// OpenAI's error class: `invalid_request_error`, `not_found_error`, `server_error`, ...
    public var type: String
    /// The request parameter at fault (validation errors), else nil.
    public var param: String?
    /// A stable machine-readable code.
    public var code: String?
    /// Extra response headers (`Retry-After`, `Allow`).
    public var headers: [String: String]

    public init(
        status: HTTPStatus, message: String, type: String, param: String? = nil, code: String? = nil,
        headers: [String: String] = [:]
    ) {
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.headers = headers
    }

    /// 400 for a bad parameter, naming it.
    public static func invalid(_ param: String?, _ message: String, code: String = "invalid_value") -> APIError {
        APIError(status: .badRequest, message: message, type: "invalid_request_error", param: param, code: code)
    }

    public static func notFound(_ message: String, param: String? = nil, code: String = "not_found") -> APIError {
        APIError(status: .notFound, message: message, type: "not_found_error", param: param, code: code)
    }

    public static func methodNotAllowed(_ method: HTTPMethod, allowed: [HTTPMethod]) -> APIError {
        APIError(
            status: .methodNotAllowed, message: "Method \(method) is not allowed here; use \(allowed.map(\.rawValue).joined(separator: ", ")).",
            type: "invalid_request_error", code: "method_not_allowed",
            headers: ["Allow": allowed.map(\.rawValue).joined(separator: ", ")])
    }

    /// 503 for a full queue: a capacity problem the client should retry, with both OpenAI's
    /// `retry-after-ms` and the standard `Retry-After` (whole seconds, rounded up).
    public static func queueFull(retryAfter: Duration) -> APIError {
        let milliseconds = max(1, Int((retryAfter.inSeconds * 1000).rounded(.up)))
        let seconds = max(1, (milliseconds + 999) / 1000)
        return APIError(
            status: .serviceUnavailable, message: "The generation queue is full; retry in \(seconds) s.",
            type: "server_error", code: "queue_full",
            headers: ["Retry-After": String(seconds), "retry-after-ms": String(milliseconds)])
    }

    public static func shuttingDown() -> APIError {
        APIError(
            status: .serviceUnavailable, message: "The server is shutting down.", type: "server_error",
            code: "shutting_down", headers: ["Retry-After": "1", "retry-after-ms": "1000"])
    }

    public static func internalError(_ message: String) -> APIError {
        APIError(status: .internalServerError, message: message, type: "server_error", code: "internal_error")
    }

    /// The wire form of the error object.
    var body: ErrorBody { ErrorBody(error: .init(message: message, type: type, param: param, code: code)) }

    /// A complete JSON response.
    public var response: HTTPResponse {
        var headers = HTTPHeaders([("Content-Type", "application/json")])
        for (name, value) in self.headers.sorted(by: { $0.key < $1.key }) { headers.add(name: name, value: value) }
        return HTTPResponse(status: status, headers: headers, body: .bytes(JSON.encode(body)))
    }
}

/// `{"error": {...}}`; `param` and `code` are always present (null when absent), as OpenAI sends them.
struct ErrorBody: Encodable, Sendable {
    struct Detail: Encodable, Sendable {
        var message: String
        var type: String
        var param: String?
        var code: String?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(message, forKey: .message)
            try container.encode(type, forKey: .type)
            try container.encode(param, forKey: .param)
            try container.encode(code, forKey: .code)
        }

        enum CodingKeys: String, CodingKey { case message, type, param, code }
    }

    var error: Detail
}
