/// Splits a request target into a decoded path and query items (RFC 9112 §3.2).
/// Pure; the parser calls it once per request head.
enum RequestTarget {
    struct Parsed: Equatable {
        var path: String
        var queryItems: [QueryItem]
    }

    /// Accepts origin-form (`/a?b`), absolute-form (`http://host/a?b`, which servers must
    /// accept) and asterisk-form (`*`, OPTIONS only). Returns nil for anything else,
    /// including broken percent-escapes and escapes that decode to invalid UTF-8.
    static func parse(_ target: [UInt8], method: HTTPMethod) -> Parsed? {
        guard !target.isEmpty, target.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        if target == [UInt8(ascii: "*")] {
            return method == .options ? Parsed(path: "*", queryItems: []) : nil
        }
        var rest = ArraySlice(target)
        if rest.first != UInt8(ascii: "/") {
            // absolute-form: scheme "://" authority path-abempty
            guard let schemeEnd = findSubsequence(Array("://".utf8), in: rest) else { return nil }
            let scheme = String(decoding: rest[rest.startIndex..<schemeEnd], as: UTF8.self).lowercased()
            guard scheme == "http" || scheme == "https" else { return nil }
            let authorityStart = schemeEnd + 3
            let pathStart = rest[authorityStart...].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") }
            guard let pathStart else { return Parsed(path: "/", queryItems: []) }
            rest = rest[pathStart...]
        }
        let questionMark = rest.firstIndex(of: UInt8(ascii: "?"))
        let rawPath = rest[rest.startIndex..<(questionMark ?? rest.endIndex)]
        var path: String
        if rawPath.isEmpty {
            path = "/"
        } else {
            guard let decoded = percentDecode(rawPath, plusIsSpace: false) else { return nil }
            path = decoded
        }
        if path.first != "/" { path = "/" + path }
        var items: [QueryItem] = []
        if let questionMark {
            var query = rest[(questionMark + 1)...]
            // A fragment should never be sent; if it is, it is not part of the query.
            if let hash = query.firstIndex(of: UInt8(ascii: "#")) { query = query[query.startIndex..<hash] }
            for piece in query.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
                if let equals = piece.firstIndex(of: UInt8(ascii: "=")) {
                    guard let name = percentDecode(piece[piece.startIndex..<equals], plusIsSpace: true),
                        let value = percentDecode(piece[(equals + 1)...], plusIsSpace: true)
                    else { return nil }
                    items.append(QueryItem(name: name, value: value))
                } else {
                    guard let name = percentDecode(piece, plusIsSpace: true) else { return nil }
                    items.append(QueryItem(name: name, value: nil))
                }
            }
        }
        return Parsed(path: path, queryItems: items)
    }

    /// Decodes `%XX` escapes; nil when an escape is malformed or the result is not UTF-8.
    static func percentDecode(_ bytes: ArraySlice<UInt8>, plusIsSpace: Bool) -> String? {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.endIndex,
                    let high = HTTPSyntax.hexValue(bytes[index + 1]), let low = HTTPSyntax.hexValue(bytes[index + 2])
                else { return nil }
                output.append(UInt8(high << 4 | low))
                index += 3
            } else {
                output.append(plusIsSpace && byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                index += 1
            }
        }
        // Decoding repairs invalid UTF-8; a round trip that changes the bytes means there was some.
        let text = String(decoding: output, as: UTF8.self)
        return text.utf8.elementsEqual(output) ? text : nil
    }

    private static func findSubsequence(_ needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var index = haystack.startIndex
        while index + needle.count <= haystack.endIndex {
            if haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}
