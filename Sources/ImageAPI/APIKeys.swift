import HTTPServer

/// The API keys a server accepts (`Authorization: Bearer KEY`, as the OpenAI SDK sends its
/// `api_key`). Empty: every request is let in.
public struct APIKeys: Sendable, Equatable {
    private let keys: [[UInt8]]

    public init(_ keys: [String]) {
        self.keys = keys.map { Array($0.utf8) }
    }

    public var isEmpty: Bool { keys.isEmpty }

    /// Who is calling: the index of the key presented (a job is visible only to that key), or
    /// why the request is refused.
    enum Verdict: Equatable {
        case open
        case key(Int)
        case missing
        case wrong
    }

    func check(authorization: String?) -> Verdict {
        guard !keys.isEmpty else { return .open }
        guard let authorization, authorization.count > 7, authorization.prefix(7).lowercased() == "bearer " else { return .missing }
        let presented = Array(authorization.dropFirst(7).drop { $0 == " " }.utf8)
        // Every key is compared in full, so the time taken says nothing about which key or how
        // many leading bytes matched.
        var match: Int?
        for (index, key) in keys.enumerated() where Self.constantTimeEqual(presented, key) && match == nil {
            match = index
        }
        return match.map { .key($0) } ?? .wrong
    }

    /// Compares every byte of the longer input; only the lengths' equality leaks.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        let length = max(a.count, b.count)
        for index in 0..<length {
            let x = index < a.count ? a[index] : 0
            let y = index < b.count ? b[index] : 0
            difference |= x ^ y
        }
        return difference == 0
    }
}

extension APIError {
    /// 401 in OpenAI's shape, with the `WWW-Authenticate` challenge.
    static func unauthorized(missing: Bool) -> APIError {
        APIError(
            status: HTTPStatus(code: 401, reasonPhrase: "Unauthorized"),
            message: missing
                ? "You didn't provide an API key. Send it as 'Authorization: Bearer KEY' (the OpenAI SDK's api_key)."
                : "Incorrect API key provided.",
            type: "invalid_request_error", code: missing ? "missing_api_key" : "invalid_api_key",
            headers: ["WWW-Authenticate": "Bearer"])
    }
}
