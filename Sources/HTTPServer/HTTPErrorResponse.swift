/// The one place that turns a refused request into a response: the status from the error, an
/// OpenAI-style JSON error body, and `Connection: close` (after such an error the byte stream
/// cannot be trusted any more, so the connection always ends).
enum HTTPErrorResponse {
    static func make(for error: HTTPRequestError, retryAfterSeconds: Int = 1) -> HTTPResponse {
        var headers: HTTPHeaders = ["Content-Type": "application/json", "Connection": "close"]
        let retryable = error == .serverBusy || error == .tooManyConnectionsFromAddress
        if retryable { headers.add(name: "Retry-After", value: String(retryAfterSeconds)) }
        let type = error == .serverBusy ? "server_error" : "invalid_request_error"
        let body =
            #"{"error":{"message":"# + jsonString(error.message) + #","type":"# + jsonString(type)
            + #","param":null,"code":"# + jsonString(error.code) + "}}"
        return HTTPResponse(status: error.status, headers: headers, body: .bytes(Array(body.utf8)))
    }

    /// A JSON string literal for `text`.
    static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
