/// How a request's body is delimited on the wire.
public enum HTTPBodyFraming: Sendable, Equatable {
    case none
    case contentLength(Int)
    case chunked
}

/// A parsed and validated request head: everything before the body.
public struct HTTPRequestHead: Sendable, Equatable {
    public var method: HTTPMethod
    public var target: String
    public var path: String
    public var queryItems: [QueryItem]
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var framing: HTTPBodyFraming
    /// Whether the client wants the connection kept open (HTTP/1.1 unless `close`; HTTP/1.0 only with `keep-alive`).
    public var keepAlive: Bool
    /// `Expect: 100-continue` on an HTTP/1.1 request (HTTP/1.0 ones must be ignored).
    public var expectsContinue: Bool
}

/// What the parser produces, in order: one `head`, zero or more `body` pieces, one `end`.
public enum HTTPParserEvent: Sendable, Equatable {
    case head(HTTPRequestHead)
    case body([UInt8])
    case end(trailers: HTTPHeaders)
}
