import HTTPServer

/// CORS: which web origins may call the API from a browser. Default none (browsers then refuse
/// cross-origin reads); `*` allows any origin, and since the API never sets
/// `Access-Control-Allow-Credentials`, a wildcard never comes with credentials.
public struct CrossOriginPolicy: Sendable, Equatable {
    public let origins: [String]

    public init(origins: [String]) {
        self.origins = origins
    }

    /// The value of `Access-Control-Allow-Origin` for a request from `origin`, nil when not allowed.
    func allowedOrigin(_ origin: String?) -> String? {
        guard let origin, !origin.isEmpty else { return nil }
        if origins.contains("*") { return "*" }
        return origins.contains(origin) ? origin : nil
    }

    /// Headers a browser script may read from our responses.
    static let exposedHeaders = "X-Job-Id, X-Seed, X-Model, X-Request-Id, Location, Retry-After, retry-after-ms"

    /// Adds the CORS headers for `origin` to a response (nothing when it is not allowed).
    func decorate(_ response: inout HTTPResponse, origin: String?) {
        guard !origins.isEmpty else { return }
        response.headers.add(name: "Vary", value: "Origin")
        guard let allowed = allowedOrigin(origin) else { return }
        response.headers.add(name: "Access-Control-Allow-Origin", value: allowed)
        response.headers.add(name: "Access-Control-Expose-Headers", value: Self.exposedHeaders)
    }

    /// The answer to a preflight (`OPTIONS` with `Access-Control-Request-Method`): 204, with the
    /// permissions when the origin is allowed, without them (so the browser refuses) otherwise.
    func preflight(origin: String?) -> HTTPResponse {
        var response = HTTPResponse(status: HTTPStatus(code: 204), headers: HTTPHeaders([]), body: .empty)
        response.headers.add(name: "Vary", value: "Origin")
        if let allowed = allowedOrigin(origin) {
            response.headers.add(name: "Access-Control-Allow-Origin", value: allowed)
            response.headers.add(name: "Access-Control-Allow-Methods", value: "GET, POST, DELETE, OPTIONS")
            response.headers.add(name: "Access-Control-Allow-Headers", value: "Authorization, Content-Type, Accept, X-Request-Id")
            response.headers.add(name: "Access-Control-Max-Age", value: "600")
        }
        return response
    }
}
