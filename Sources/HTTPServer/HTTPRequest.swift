/// A request method. Methods are case-sensitive tokens; unknown ones are passed on to the handler.
public struct HTTPMethod: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }

    public static let get = HTTPMethod("GET")
    public static let head = HTTPMethod("HEAD")
    public static let post = HTTPMethod("POST")
    public static let put = HTTPMethod("PUT")
    public static let delete = HTTPMethod("DELETE")
    public static let patch = HTTPMethod("PATCH")
    public static let options = HTTPMethod("OPTIONS")
    public static let connect = HTTPMethod("CONNECT")

    public var description: String { rawValue }
}

/// The HTTP versions the server speaks: 1.0 and 1.1 (anything else is refused with 505).
public enum HTTPVersion: String, Sendable, Hashable, CustomStringConvertible {
    case http1_0 = "HTTP/1.0"
    case http1_1 = "HTTP/1.1"

    public var description: String { rawValue }
}

/// One `name=value` pair of the query string, both percent-decoded (`+` decodes to a space).
public struct QueryItem: Sendable, Hashable {
    public var name: String
    /// nil when the item had no `=` at all (`?flag`), "" for `?flag=`.
    public var value: String?

    public init(name: String, value: String?) {
        self.name = name
        self.value = value
    }
}

/// A complete request as handed to a handler: the head plus the whole body.
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    /// The request target exactly as sent (e.g. `/v1/images?n=2`).
    public var target: String
    /// The percent-decoded path (`/v1/images`).
    public var path: String
    /// The query items in order, percent-decoded.
    public var queryItems: [QueryItem]
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// Trailer fields of a chunked request body (usually empty).
    public var trailers: HTTPHeaders

    public init(
        method: HTTPMethod, target: String, path: String, queryItems: [QueryItem] = [],
        version: HTTPVersion = .http1_1, headers: HTTPHeaders = [:], body: [UInt8] = [], trailers: HTTPHeaders = [:]
    ) {
        self.method = method
        self.target = target
        self.path = path
        self.queryItems = queryItems
        self.version = version
        self.headers = headers
        self.body = body
        self.trailers = trailers
    }

    /// The first value of query item `name`, if present.
    public func queryValue(_ name: String) -> String? {
        queryItems.first { $0.name == name }?.value
    }
}
