/// Wire framing of the three progressive formats. Pure functions: the streamer decides what to
/// send, these decide the bytes, and tests check them without sockets.
enum ServerSentEvents {
    static let contentType = "text/event-stream; charset=utf-8"

    /// One event: `event:` line, `data:` line(s), blank line. Our data is compact JSON (no newlines),
    /// but any newline is still split into several `data:` lines as the format requires.
    static func event(_ name: String?, data: String) -> String {
        var text = ""
        if let name { text += "event: \(name)\n" }
        for line in data.split(separator: "\n", omittingEmptySubsequences: false) { text += "data: \(line)\n" }
        return text + "\n"
    }

    /// A comment line: ignored by clients, keeps proxies and idle timers from closing the stream.
    static func comment(_ text: String) -> String { ": \(text)\n\n" }
}

/// `multipart/x-mixed-replace`: each part replaces the previous one in an `<img>`. A browser shows
/// a part only once it sees the boundary after it, so every part is followed by its boundary in
/// the same write, and the last one by the closing delimiter.
enum MultipartFraming {
    static let boundary = "enatframe"
    static let contentType = "multipart/x-mixed-replace; boundary=\(boundary)"

    /// Sent once, first: the delimiter that opens the first part.
    static var opening: [UInt8] { Array("--\(boundary)\r\n".utf8) }

    /// One part with its headers and body, then the next delimiter, or the close delimiter if `last`.
    static func part(contentType: String, body: [UInt8], last: Bool) -> [UInt8] {
        var bytes = Array("Content-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n\r\n".utf8)
        bytes += body
        bytes += Array((last ? "\r\n--\(boundary)--\r\n" : "\r\n--\(boundary)\r\n").utf8)
        return bytes
    }
}

/// Newline-delimited JSON: one compact JSON object per line.
enum NDJSONFraming {
    static let contentType = "application/x-ndjson"

    static func line(_ json: String) -> String { json + "\n" }
}
