import Glibc

/// Pure decisions and byte layouts for responses: framing, keep-alive, the head's bytes,
/// chunk framing. The connection only moves the bytes this produces.
enum ResponseEncoder {
    /// How the body will be delimited.
    enum Framing: Equatable {
        case contentLength(Int)
        case chunked
        /// HTTP/1.0 clients do not know chunked: the body ends when the connection closes.
        case closeDelimited
        /// 1xx, 204 and 304 carry neither a body nor a length.
        case noBody
    }

    /// The body kind without the body itself, so plans stay Equatable and testable.
    enum BodyKind: Equatable {
        case empty
        case bytes(count: Int)
        case stream
    }

    struct Plan: Equatable {
        var head: [UInt8]
        var framing: Framing
        /// False for HEAD requests and bodiless statuses: framing headers are sent, body bytes are not.
        var sendsBody: Bool
        var keepAlive: Bool
    }

    /// What the server knows about the request being answered.
    struct RequestInfo: Equatable {
        var method: HTTPMethod
        var version: HTTPVersion
        var keepAlive: Bool
        var requestID: String?
    }

    static func plan(
        status: HTTPStatus, headers: HTTPHeaders, body: BodyKind, request: RequestInfo,
        draining: Bool, serverName: String, date: String
    ) -> Plan {
        let framing: Framing
        if !status.allowsBody {
            framing = .noBody
        } else {
            switch body {
            case .empty: framing = .contentLength(0)
            case .bytes(let count): framing = .contentLength(count)
            case .stream: framing = request.version == .http1_1 ? .chunked : .closeDelimited
            }
        }
        let isHead = request.method == .head
        let handlerWantsClose = headers.tokens(for: "connection").contains { $0.lowercased() == "close" }
        // A HEAD answer has no body, so nothing needs the close to delimit it.
        let closeDelimits = framing == .closeDelimited && !isHead
        let keepAlive = request.keepAlive && !draining && !handlerWantsClose && !closeDelimits

        var out = HTTPHeaders()
        for field in headers where isSafe(field) {
            switch field.name.lowercased() {
            case "content-length", "transfer-encoding", "connection", "date", "x-request-id", "keep-alive":
                continue  // the server decides these
            default:
                out.add(name: field.name, value: field.value)
            }
        }
        if !out.contains("server") { out.add(name: "Server", value: serverName) }
        out.add(name: "Date", value: date)
        if let requestID = request.requestID { out.add(name: "X-Request-Id", value: requestID) }
        switch framing {
        case .contentLength(let length): out.add(name: "Content-Length", value: String(length))
        case .chunked: out.add(name: "Transfer-Encoding", value: "chunked")
        case .closeDelimited, .noBody: break
        }
        if !keepAlive {
            out.add(name: "Connection", value: "close")
        } else if request.version == .http1_0 {
            out.add(name: "Connection", value: "keep-alive")
        }
        return Plan(
            head: encodeHead(status: status, headers: out), framing: framing,
            sendsBody: !isHead && framing != .noBody, keepAlive: keepAlive)
    }

    static func encodeHead(status: HTTPStatus, headers: HTTPHeaders) -> [UInt8] {
        var text = "HTTP/1.1 \(status.code) \(sanitizedReason(status.reasonPhrase))\r\n"
        for field in headers { text += "\(field.name): \(field.value)\r\n" }
        text += "\r\n"
        return Array(text.utf8)
    }

    /// A handler-supplied field is sent only if it cannot break the framing (no CR/LF injection).
    static func isSafe(_ field: HTTPHeaders.Field) -> Bool {
        HTTPSyntax.isToken(field.name.utf8) && field.value.utf8.allSatisfy(HTTPSyntax.isFieldValueByte)
    }

    private static func sanitizedReason(_ reason: String) -> String {
        reason.utf8.allSatisfy(HTTPSyntax.isFieldValueByte) ? reason : "Unknown"
    }

    /// One chunk: size in hex, CRLF, data, CRLF. Never call with empty data (that is the last chunk).
    static func chunk(_ bytes: [UInt8]) -> [UInt8] {
        var out = Array(String(bytes.count, radix: 16).utf8)
        out.reserveCapacity(out.count + bytes.count + 4)
        out += [HTTPSyntax.cr, HTTPSyntax.lf]
        out += bytes
        out += [HTTPSyntax.cr, HTTPSyntax.lf]
        return out
    }

    static let lastChunk: [UInt8] = Array("0\r\n\r\n".utf8)
    static let continueResponse: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// IMF-fixdate, e.g. `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110 §5.6.7).
    static func httpDate(_ seconds: time_t = time(nil)) -> String {
        var seconds = seconds
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(weekdays[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
