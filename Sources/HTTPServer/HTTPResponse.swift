/// A response from a handler. The server owns framing: it sets Content-Length or chunked
/// Transfer-Encoding, `Connection`, `Date`, `Server` (unless set) and `X-Request-Id`, and drops
/// any framing headers the handler set so they cannot contradict the body.
public struct HTTPResponse: Sendable {
    /// The body of a response.
    public enum Body: Sendable {
        /// No body (`Content-Length: 0` where a body is allowed).
        case empty
        /// A complete body, sent with Content-Length.
        case bytes([UInt8])
        /// A body produced while it is sent, with chunked transfer encoding (close-delimited for
        /// HTTP/1.0 clients). The closure runs after the head is sent; when it returns, the
        /// terminating zero chunk is written. If it throws, the connection is dropped without that
        /// chunk so the client sees the body as truncated; except during shutdown (the task was
        /// cancelled by the server), where the stream is still terminated properly.
        case stream(@Sendable (ResponseBodyWriter) async throws -> Void)
    }

    public var status: HTTPStatus
    public var headers: HTTPHeaders
    public var body: Body

    public init(status: HTTPStatus = .ok, headers: HTTPHeaders = [:], body: Body = .empty) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A response whose body is UTF-8 text.
    public init(status: HTTPStatus = .ok, headers: HTTPHeaders = [:], text: String) {
        self.init(status: status, headers: headers, body: .bytes(Array(text.utf8)))
    }
}
