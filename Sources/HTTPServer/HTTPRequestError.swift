/// Why a request was refused before reaching a handler. `HTTPErrorResponse` is the one place
/// that turns these into a status, a JSON body and `Connection: close`.
public enum HTTPRequestError: Error, Sendable, Equatable {
    // 400: the message is malformed; framing can no longer be trusted.
    case malformedRequestLine
    case invalidMethod
    case invalidTarget
    case invalidVersion
    case bareLineFeed
    case obsoleteLineFolding
    case whitespaceBeforeColon
    case invalidHeaderName
    case invalidHeaderValue
    case missingColon
    case contentLengthWithTransferEncoding
    case duplicateContentLength
    case invalidContentLength
    case invalidTransferEncoding
    case transferEncodingInHTTP10
    case invalidChunk
    case missingHost
    case duplicateHost
    /// A Host value that is not `uri-host [ ":" port ]` (RFC 9112 §3.2).
    case invalidHost
    // Sizes.
    case requestLineTooLong
    case headerSectionTooLarge
    case tooManyHeaderFields
    case bodyTooLarge
    // Others.
    case unsupportedVersion
    case unsupportedTransferEncoding
    case unsupportedExpectation
    /// CONNECT: this server is an origin server and never opens tunnels.
    case methodNotImplemented
    case headTimeout
    case bodyTimeout
    case serverBusy
    /// The peer's address already holds `maxConnectionsPerAddress` connections.
    case tooManyConnectionsFromAddress

    /// The status trusted servers answer with.
    public var status: HTTPStatus {
        switch self {
        case .requestLineTooLong: .uriTooLong
        case .headerSectionTooLarge, .tooManyHeaderFields: .requestHeaderFieldsTooLarge
        case .bodyTooLarge: .contentTooLarge
        case .unsupportedVersion: .httpVersionNotSupported
        case .unsupportedTransferEncoding, .methodNotImplemented: .notImplemented
        case .unsupportedExpectation: .expectationFailed
        case .headTimeout, .bodyTimeout: .requestTimeout
        case .serverBusy: .serviceUnavailable
        case .tooManyConnectionsFromAddress: .tooManyRequests
        default: .badRequest
        }
    }

    /// A stable machine-readable code for the JSON body.
    public var code: String {
        switch self {
        case .malformedRequestLine: "malformed_request_line"
        case .invalidMethod: "invalid_method"
        case .invalidTarget: "invalid_target"
        case .invalidVersion: "invalid_version"
        case .bareLineFeed: "bare_line_feed"
        case .obsoleteLineFolding: "obsolete_line_folding"
        case .whitespaceBeforeColon: "whitespace_before_colon"
        case .invalidHeaderName: "invalid_header_name"
        case .invalidHeaderValue: "invalid_header_value"
        case .missingColon: "malformed_header"
        case .contentLengthWithTransferEncoding: "content_length_with_transfer_encoding"
        case .duplicateContentLength: "duplicate_content_length"
        case .invalidContentLength: "invalid_content_length"
        case .invalidTransferEncoding: "invalid_transfer_encoding"
        case .transferEncodingInHTTP10: "transfer_encoding_in_http10"
        case .invalidChunk: "invalid_chunk"
        case .missingHost: "missing_host"
        case .duplicateHost: "duplicate_host"
        case .invalidHost: "invalid_host"
        case .requestLineTooLong: "request_line_too_long"
        case .headerSectionTooLarge: "header_section_too_large"
        case .tooManyHeaderFields: "too_many_header_fields"
        case .bodyTooLarge: "body_too_large"
        case .unsupportedVersion: "unsupported_http_version"
        case .unsupportedTransferEncoding: "unsupported_transfer_encoding"
        case .unsupportedExpectation: "unsupported_expectation"
        case .methodNotImplemented: "method_not_implemented"
        case .headTimeout: "request_head_timeout"
        case .bodyTimeout: "request_body_timeout"
        case .serverBusy: "server_busy"
        case .tooManyConnectionsFromAddress: "too_many_connections"
        }
    }

    /// A human-readable explanation for the JSON body.
    public var message: String {
        switch self {
        case .malformedRequestLine: "The request line is malformed."
        case .invalidMethod: "The request method is not a valid token."
        case .invalidTarget: "The request target is invalid."
        case .invalidVersion: "The HTTP version is malformed."
        case .bareLineFeed: "Lines must end with CRLF."
        case .obsoleteLineFolding: "Header line folding (obs-fold) is not allowed."
        case .whitespaceBeforeColon: "Whitespace between a header name and the colon is not allowed."
        case .invalidHeaderName: "A header name contains invalid characters."
        case .invalidHeaderValue: "A header value contains invalid characters."
        case .missingColon: "A header line has no colon."
        case .contentLengthWithTransferEncoding: "Content-Length and Transfer-Encoding must not be combined."
        case .duplicateContentLength: "Content-Length must appear once."
        case .invalidContentLength: "Content-Length is not a valid number."
        case .invalidTransferEncoding: "Transfer-Encoding is malformed."
        case .transferEncodingInHTTP10: "Transfer-Encoding is not allowed in HTTP/1.0."
        case .invalidChunk: "The chunked request body is malformed."
        case .missingHost: "HTTP/1.1 requests need a Host header."
        case .duplicateHost: "Host must appear once."
        case .invalidHost: "The Host header is not a valid host[:port]."
        case .requestLineTooLong: "The request line is too long."
        case .headerSectionTooLarge: "The request header section is too large."
        case .tooManyHeaderFields: "The request has too many header fields."
        case .bodyTooLarge: "The request body is too large."
        case .unsupportedVersion: "Only HTTP/1.0 and HTTP/1.1 are supported."
        case .unsupportedTransferEncoding: "Only the chunked transfer coding is supported."
        case .unsupportedExpectation: "Only the 100-continue expectation is supported."
        case .methodNotImplemented: "This server does not implement the request method."
        case .headTimeout: "The request head did not arrive in time."
        case .bodyTimeout: "The request body did not arrive in time."
        case .serverBusy: "The server has too many connections; retry later."
        case .tooManyConnectionsFromAddress: "Too many connections from your address; retry later."
        }
    }
}
