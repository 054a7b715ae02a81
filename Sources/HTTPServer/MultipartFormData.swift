/// One field of a `multipart/form-data` body (RFC 7578): a form value or an uploaded file.
public struct MultipartPart: Sendable, Equatable {
    /// The `name` parameter of the part's `Content-Disposition` (e.g. `image[]`).
    public var name: String
    /// The `filename` parameter, when the part is a file upload.
    public var filename: String?
    /// The part's own `Content-Type`, if it sent one.
    public var contentType: String?
    public var body: [UInt8]

    public init(name: String, filename: String? = nil, contentType: String? = nil, body: [UInt8]) {
        self.name = name
        self.filename = filename
        self.contentType = contentType
        self.body = body
    }

    /// The body as UTF-8 text (form values), nil when it is not valid UTF-8.
    public var text: String? { String(validating: body, as: UTF8.self) }
}

/// Bounds on what one form may make the server hold.
public struct MultipartLimits: Sendable, Equatable {
    /// Parts in the form.
    public var maxParts: Int
    /// Bytes of one part's header block.
    public var maxHeaderBytes: Int
    /// Bytes of one part's body.
    public var maxPartBytes: Int

    public init(maxParts: Int = 32, maxHeaderBytes: Int = 4096, maxPartBytes: Int = 16 << 20) {
        self.maxParts = maxParts
        self.maxHeaderBytes = maxHeaderBytes
        self.maxPartBytes = maxPartBytes
    }
}

/// Why a form was refused; each is a client error (400, or 413 for the size limits).
public enum MultipartError: Error, Equatable, Sendable, CustomStringConvertible {
    case notMultipartFormData
    case invalidBoundary
    case tooManyParts(limit: Int)
    case headerTooLarge(limit: Int)
    case partTooLarge(name: String, limit: Int)
    case malformedPartHeader
    case missingName
    case truncated

    public var description: String {
        switch self {
        case .notMultipartFormData: "the body must be multipart/form-data with a boundary parameter"
        case .invalidBoundary: "the multipart boundary must be 1 to 70 characters of the RFC 2046 set"
        case .tooManyParts(let limit): "the form has more than \(limit) parts"
        case .headerTooLarge(let limit): "a form part's headers exceed \(limit) bytes"
        case .partTooLarge(let name, let limit): "form part '\(name)' exceeds \(limit) bytes"
        case .malformedPartHeader: "a form part has a malformed header"
        case .missingName: "every form part needs Content-Disposition: form-data with a name"
        case .truncated: "the multipart body ends before its closing boundary"
        }
    }

    /// Whether the error is a size limit (413) rather than malformed input (400).
    public var isSizeLimit: Bool {
        switch self {
        case .tooManyParts, .headerTooLarge, .partTooLarge: true
        default: false
        }
    }
}

/// An incremental `multipart/form-data` parser: `feed` bytes in any split, collect the parts
/// it completes, then `finish`. Every buffer it keeps is bounded by `MultipartLimits`, so it
/// can run as a body arrives; it never looks at anything but the bytes.
public struct MultipartParser: Sendable {
    private enum State: Sendable {
        /// Before the first boundary: the preamble is ignored.
        case preamble
        /// Right after a boundary: `--` (the end) or the line break before a part's headers.
        case afterBoundary
        case headers
        case body
        case epilogue
    }

    private let limits: MultipartLimits
    /// `--boundary` (the first one may open the body) and `\r\n--boundary` (every later one).
    private let firstDelimiter: [UInt8]
    private let delimiter: [UInt8]
    private var state = State.preamble
    private var buffer: [UInt8] = []
    private var partCount = 0
    private var current = MultipartPart(name: "", body: [])

    /// A parser for the boundary of a `Content-Type: multipart/form-data; boundary=...` value.
    public init(contentType: String, limits: MultipartLimits = MultipartLimits()) throws(MultipartError) {
        let (type, parameters) = HeaderParameters.parse(contentType)
        guard type == "multipart/form-data", let boundary = parameters["boundary"] else { throw .notMultipartFormData }
        try self.init(boundary: boundary, limits: limits)
    }

    public init(boundary: String, limits: MultipartLimits = MultipartLimits()) throws(MultipartError) {
        // RFC 2046 section 5.1.1: 1 to 70 characters, not ending in a space.
        let allowed = Set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ".utf8)
        let bytes = Array(boundary.utf8)
        guard (1...70).contains(bytes.count), bytes.allSatisfy(allowed.contains), bytes.last != UInt8(ascii: " ") else {
            throw .invalidBoundary
        }
        self.limits = limits
        firstDelimiter = Array("--".utf8) + bytes
        delimiter = Array("\r\n--".utf8) + bytes
    }

    /// Whether the closing boundary has been read.
    public var isComplete: Bool { if case .epilogue = state { true } else { false } }

    /// Consumes `bytes`; returns the parts completed by them.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(MultipartError) -> [MultipartPart] {
        if case .epilogue = state { return [] }
        buffer.append(contentsOf: bytes)
        var parts: [MultipartPart] = []
        while try step(&parts) {}
        return parts
    }

    /// Ends the body: an error unless the closing boundary was read.
    public func finish() throws(MultipartError) {
        guard isComplete else { throw .truncated }
    }

    /// Parses a whole body.
    public static func parse(_ body: [UInt8], contentType: String, limits: MultipartLimits = MultipartLimits()) throws(MultipartError)
        -> [MultipartPart]
    {
        var parser = try MultipartParser(contentType: contentType, limits: limits)
        let parts = try parser.feed(body)
        try parser.finish()
        return parts
    }

    /// One transition; false when more bytes are needed.
    private mutating func step(_ parts: inout [MultipartPart]) throws(MultipartError) -> Bool {
        switch state {
        case .preamble:
            // The body may start with the boundary itself, or with a preamble and a line break.
            if buffer.starts(with: firstDelimiter) {
                buffer.removeFirst(firstDelimiter.count)
                state = .afterBoundary
                return true
            }
            if buffer.count < firstDelimiter.count && firstDelimiter.starts(with: buffer) { return false }
            guard let index = Self.find(delimiter, in: buffer) else {
                // Keep only what could still begin a delimiter; the preamble is discarded.
                buffer.removeFirst(max(0, buffer.count - (delimiter.count - 1)))
                return false
            }
            buffer.removeFirst(index + delimiter.count)
            state = .afterBoundary
            return true
        case .afterBoundary:
            guard buffer.count >= 2 else { return false }
            if buffer[0] == UInt8(ascii: "-") && buffer[1] == UInt8(ascii: "-") {
                buffer.removeAll()
                state = .epilogue
                return false
            }
            // Transport padding (spaces, tabs) may follow a boundary before its line break.
            guard let lineEnd = Self.find(Array("\r\n".utf8), in: buffer) else {
                if buffer.count > 256 { throw .malformedPartHeader }
                return false
            }
            guard buffer[..<lineEnd].allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) else {
                throw .malformedPartHeader
            }
            partCount += 1
            guard partCount <= limits.maxParts else { throw .tooManyParts(limit: limits.maxParts) }
            buffer.removeFirst(lineEnd + 2)
            state = .headers
            return true
        case .headers:
            let blockEnd: Int
            if buffer.starts(with: Array("\r\n".utf8)) {
                blockEnd = 0  // no header fields at all
            } else if let end = Self.find(Array("\r\n\r\n".utf8), in: buffer) {
                blockEnd = end + 2
            } else {
                if buffer.count > limits.maxHeaderBytes { throw .headerTooLarge(limit: limits.maxHeaderBytes) }
                return false
            }
            guard blockEnd <= limits.maxHeaderBytes else { throw .headerTooLarge(limit: limits.maxHeaderBytes) }
            current = try Self.part(headerBlock: buffer[..<blockEnd])
            buffer.removeFirst(blockEnd + 2)
            state = .body
            return true
        case .body:
            if let index = Self.find(delimiter, in: buffer) {
                try appendBody(buffer[..<index])
                buffer.removeFirst(index + delimiter.count)
                parts.append(current)
                current = MultipartPart(name: "", body: [])
                state = .afterBoundary
                return true
            }
            // Everything but a possible delimiter prefix at the end is body.
            let safe = buffer.count - (delimiter.count - 1)
            if safe > 0 {
                try appendBody(buffer[..<safe])
                buffer.removeFirst(safe)
            }
            return false
        case .epilogue:
            return false
        }
    }

    private mutating func appendBody(_ bytes: ArraySlice<UInt8>) throws(MultipartError) {
        guard current.body.count + bytes.count <= limits.maxPartBytes else {
            throw .partTooLarge(name: current.name, limit: limits.maxPartBytes)
        }
        current.body.append(contentsOf: bytes)
    }

    /// A part's name, file name and type from its header block (`Name: value` lines).
    private static func part(headerBlock: ArraySlice<UInt8>) throws(MultipartError) -> MultipartPart {
        guard let text = String(validating: headerBlock, as: UTF8.self) else { throw .malformedPartHeader }
        var disposition: String?
        var contentType: String?
        for line in text.split(separator: "\r\n", omittingEmptySubsequences: true) {
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex,
                line[..<colon].utf8.allSatisfy(HTTPSyntax.isToken)
            else { throw .malformedPartHeader }
            let value = line[line.index(after: colon)...].trimmingSpaces
            switch line[..<colon].lowercased() {
            case "content-disposition": disposition = value
            case "content-type": contentType = value
            default: break  // RFC 7578: other fields are ignored
            }
        }
        guard let disposition else { throw .missingName }
        let (type, parameters) = HeaderParameters.parse(disposition)
        guard type == "form-data", let name = parameters["name"] else { throw .missingName }
        return MultipartPart(name: name, filename: parameters["filename"], contentType: contentType, body: [])
    }

    /// The first index of `needle` in `haystack`.
    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count, let first = needle.first else { return nil }
        return haystack.withUnsafeBufferPointer { h in
            needle.withUnsafeBufferPointer { n in
                var i = 0
                let last = h.count - n.count
                while i <= last {
                    if h[i] == first {
                        var j = 1
                        while j < n.count && h[i + j] == n[j] { j += 1 }
                        if j == n.count { return i }
                    }
                    i += 1
                }
                return nil
            }
        }
    }
}

/// `type; name=value; name="quoted value"` header values (Content-Type, Content-Disposition).
enum HeaderParameters {
    /// The lowercased leading value and the parameters (names lowercased, values unquoted).
    static func parse(_ value: String) -> (String, [String: String]) {
        var scalars = Substring(value)
        let type = String(scalars.prefix { $0 != ";" }).trimmingSpaces.lowercased()
        scalars = scalars.drop { $0 != ";" }
        var parameters: [String: String] = [:]
        while scalars.first == ";" {
            scalars = scalars.dropFirst().drop { $0 == " " || $0 == "\t" }
            let name = String(scalars.prefix { $0 != "=" && $0 != ";" }).trimmingSpaces.lowercased()
            scalars = scalars.drop { $0 != "=" && $0 != ";" }
            guard scalars.first == "=" else { continue }
            scalars = scalars.dropFirst().drop { $0 == " " || $0 == "\t" }
            var parameterValue = ""
            if scalars.first == "\"" {
                scalars = scalars.dropFirst()
                while let character = scalars.first, character != "\"" {
                    scalars = scalars.dropFirst()
                    if character == "\\", let escaped = scalars.first {
                        parameterValue.append(escaped)
                        scalars = scalars.dropFirst()
                    } else {
                        parameterValue.append(character)
                    }
                }
                scalars = scalars.dropFirst().drop { $0 != ";" }
            } else {
                parameterValue = String(scalars.prefix { $0 != ";" }).trimmingSpaces
                scalars = scalars.drop { $0 != ";" }
            }
            // The first occurrence wins; a repeated name cannot replace it.
            if !name.isEmpty && parameters[name] == nil { parameters[name] = parameterValue }
        }
        return (type, parameters)
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[start...end])
    }
}
