/// A strict, incremental HTTP/1.x request parser.
///
/// It is a pure state machine: `append` bytes as they arrive, in any split, then call `next()`
/// until it returns nil (it needs more bytes). It never does I/O and never looks at the clock,
/// so tests can drive it directly. Pipelined requests simply follow each other in the stream.
///
/// After it throws, the parser stays failed: the byte stream can no longer be framed, so the
/// connection must answer the error and close.
public struct HTTPRequestParser: Sendable {
    private enum State: Sendable, Equatable {
        case requestLine
        case headers
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case complete
        case failed(HTTPRequestError)
    }

    /// Blank lines tolerated before a request line (RFC 9112 §2.2 asks us to ignore at least one).
    private static let maxLeadingEmptyLines = 4

    public let limits: HTTPServerConfiguration.Limits
    private var state: State = .requestLine
    private var buffer: [UInt8] = []
    /// First unconsumed byte of `buffer`.
    private var start = 0
    /// How many bytes after `start` are already known to hold no LF: keeps byte-by-byte feeding linear.
    private var scanned = 0

    // The message under construction.
    private var method = HTTPMethod.get
    private var target = ""
    private var version = HTTPVersion.http1_1
    private var parsedTarget = RequestTarget.Parsed(path: "/", queryItems: [])
    private var fields = HTTPHeaders()
    private var fieldBytes = 0
    private var leadingEmptyLines = 0
    private var bodyTotal = 0
    /// The body limit of the request under construction (its path's).
    private var bodyLimit = 0

    public init(limits: HTTPServerConfiguration.Limits = .init()) {
        self.limits = limits
    }

    /// Bytes received but not yet consumed by `next()`.
    public var bufferedByteCount: Int { buffer.count - start }

    /// True when some of a request (head or body) has arrived but not all of it.
    public var hasPartialRequest: Bool {
        switch state {
        case .requestLine: bufferedByteCount > 0
        case .failed: false
        default: true
        }
    }

    /// Adds received bytes.
    public mutating func append<Bytes: Collection<UInt8>>(_ bytes: Bytes) {
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        } else if start > 4096 && start * 2 > buffer.count {
            // Drop consumed bytes only when they dominate, so compaction stays amortised O(1).
            buffer.removeSubrange(0..<start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next event, or nil when more bytes are needed.
    public mutating func next() throws(HTTPRequestError) -> HTTPParserEvent? {
        do {
            return try step()
        } catch {
            state = .failed(error)
            throw error
        }
    }

    private mutating func step() throws(HTTPRequestError) -> HTTPParserEvent? {
        while true {
            switch state {
            case .failed(let error):
                throw error

            case .requestLine:
                guard let line = try takeLine(maxLength: limits.maxRequestLineBytes, tooLong: .requestLineTooLong)
                else { return nil }
                if line.isEmpty {
                    leadingEmptyLines += 1
                    if leadingEmptyLines > Self.maxLeadingEmptyLines { throw .malformedRequestLine }
                    continue
                }
                try parseRequestLine(line)
                fields = HTTPHeaders()
                fieldBytes = 0
                state = .headers

            case .headers:
                guard let line = try takeLine(maxLength: headerLineBudget, tooLong: .headerSectionTooLarge)
                else { return nil }
                if line.isEmpty {
                    let head = try finishHead()
                    return .head(head)
                }
                try parseField(line)

            case .fixedBody(let remaining):
                let count = min(remaining, bufferedByteCount)
                guard count > 0 else { return nil }
                let piece = Array(buffer[start..<(start + count)])
                consume(count)
                state = remaining == count ? .complete : .fixedBody(remaining: remaining - count)
                return .body(piece)

            case .chunkSize:
                guard let line = try takeLine(maxLength: limits.maxChunkLineBytes, tooLong: .invalidChunk)
                else { return nil }
                let size = try parseChunkSize(line)
                state = size == 0 ? .trailers : .chunkData(remaining: size)
                if size == 0 {
                    fields = HTTPHeaders()
                    fieldBytes = 0
                }

            case .chunkData(let remaining):
                let count = min(remaining, bufferedByteCount)
                guard count > 0 else { return nil }
                let piece = Array(buffer[start..<(start + count)])
                consume(count)
                state = remaining == count ? .chunkDataEnd : .chunkData(remaining: remaining - count)
                return .body(piece)

            case .chunkDataEnd:
                // Chunk data must be followed by exactly CRLF; check each byte as soon as it is here.
                guard bufferedByteCount >= 1 else { return nil }
                guard buffer[start] == HTTPSyntax.cr else { throw .invalidChunk }
                guard bufferedByteCount >= 2 else { return nil }
                guard buffer[start + 1] == HTTPSyntax.lf else { throw .invalidChunk }
                consume(2)
                state = .chunkSize

            case .trailers:
                guard let line = try takeLine(maxLength: headerLineBudget, tooLong: .headerSectionTooLarge)
                else { return nil }
                if line.isEmpty {
                    state = .complete
                } else {
                    try parseField(line)
                }

            case .complete:
                // Trailers were collected into `fields` (empty for non-chunked bodies).
                let trailers = fields
                fields = HTTPHeaders()
                fieldBytes = 0
                leadingEmptyLines = 0
                bodyTotal = 0
                state = .requestLine
                return .end(trailers: trailers)
            }
        }
    }

    // MARK: Lines

    /// Room left for the next field line (its CRLF counts); the blank line ending the section is free.
    private var headerLineBudget: Int { max(0, limits.maxHeaderBytes - fieldBytes - 2) }

    private mutating func consume(_ count: Int) {
        start += count
        scanned = 0
    }

    /// Takes the next CRLF-terminated line (without its CRLF), or nil when no LF has arrived yet.
    /// A line longer than `maxLength` fails with `tooLong` as soon as that is certain.
    private mutating func takeLine(maxLength: Int, tooLong: HTTPRequestError) throws(HTTPRequestError) -> Range<Int>? {
        let searchStart = start + scanned
        guard let lf = buffer[searchStart...].firstIndex(of: HTTPSyntax.lf) else {
            scanned = bufferedByteCount
            // Even if the next byte is the LF, the line (minus a possible CR) is already too long.
            if bufferedByteCount >= maxLength + 2 { throw tooLong }
            return nil
        }
        guard lf > start, buffer[lf - 1] == HTTPSyntax.cr else { throw .bareLineFeed }
        let line = start..<(lf - 1)
        if line.count > maxLength { throw tooLong }
        start = lf + 1
        scanned = 0
        return line
    }

    // MARK: Request line

    private mutating func parseRequestLine(_ line: Range<Int>) throws(HTTPRequestError) {
        let bytes = buffer[line]
        // Exactly: method SP target SP version. No tabs, no doubled spaces.
        let parts = bytes.split(separator: HTTPSyntax.space, omittingEmptySubsequences: false)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else { throw .malformedRequestLine }
        guard HTTPSyntax.isToken(parts[0]) else { throw .invalidMethod }
        method = HTTPMethod(String(decoding: parts[0], as: UTF8.self))
        version = try Self.parseVersion(parts[2])
        // A well-formed CONNECT asks for a tunnel, which an origin server does not offer: 501, not
        // 400 (RFC 9110 §9.3.6). Its authority-form target is checked only for being visible ASCII.
        if method == .connect {
            guard parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { throw .invalidTarget }
            throw .methodNotImplemented
        }
        let targetBytes = Array(parts[1])
        guard let parsed = RequestTarget.parse(targetBytes, method: method) else { throw .invalidTarget }
        target = String(decoding: targetBytes, as: UTF8.self)
        parsedTarget = parsed
        bodyLimit = limits.maxBodyBytes(forPath: parsed.path)
    }

    /// `HTTP/<digit>.<digit>`; 1.0 and 1.x (treated as 1.1, per RFC 9110 §2.5) are spoken, other
    /// well-formed versions get 505, anything else is malformed.
    static func parseVersion(_ bytes: ArraySlice<UInt8>) throws(HTTPRequestError) -> HTTPVersion {
        let bytes = Array(bytes)
        guard bytes.count == 8, bytes[0..<5].elementsEqual("HTTP/".utf8), bytes[6] == UInt8(ascii: "."),
            let major = digit(bytes[5]), let minor = digit(bytes[7])
        else { throw .invalidVersion }
        guard major == 1 else { throw .unsupportedVersion }
        return minor == 0 ? .http1_0 : .http1_1
    }

    private static func digit(_ byte: UInt8) -> Int? {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? Int(byte - UInt8(ascii: "0")) : nil
    }

    // MARK: Fields

    private mutating func parseField(_ line: Range<Int>) throws(HTTPRequestError) {
        let bytes = buffer[line]
        // A field line starting with whitespace continues the previous one: obs-fold, refused (RFC 9112 §5.2).
        if HTTPSyntax.isWhitespace(bytes[bytes.startIndex]) { throw .obsoleteLineFolding }
        guard let colon = bytes.firstIndex(of: HTTPSyntax.colon) else { throw .missingColon }
        let name = bytes[bytes.startIndex..<colon]
        guard !name.isEmpty else { throw .invalidHeaderName }
        // "Host : x" must be refused, not trimmed: proxies disagree on it (RFC 9112 §5.1).
        if HTTPSyntax.isWhitespace(name[name.endIndex - 1]) { throw .whitespaceBeforeColon }
        guard HTTPSyntax.isToken(name) else { throw .invalidHeaderName }
        var value = bytes[(colon + 1)...]
        while let first = value.first, HTTPSyntax.isWhitespace(first) { value = value.dropFirst() }
        while let last = value.last, HTTPSyntax.isWhitespace(last) { value = value.dropLast() }
        guard value.allSatisfy(HTTPSyntax.isFieldValueByte) else { throw .invalidHeaderValue }
        fieldBytes += line.count + 2
        guard fields.count < limits.maxHeaderCount else { throw .tooManyHeaderFields }
        fields.add(name: String(decoding: name, as: UTF8.self), value: String(decoding: value, as: UTF8.self))
    }

    // MARK: Head

    private mutating func finishHead() throws(HTTPRequestError) -> HTTPRequestHead {
        let hosts = fields.values(for: "host")
        if hosts.count > 1 { throw .duplicateHost }
        if hosts.isEmpty && version == .http1_1 { throw .missingHost }
        if let host = hosts.first, !HostValidation.isValid(host.utf8) { throw .invalidHost }

        let framing = try bodyFraming()
        let connection = fields.tokens(for: "connection").map { $0.lowercased() }
        let keepAlive = version == .http1_1 ? !connection.contains("close") : connection.contains("keep-alive")

        var expectsContinue = false
        let expectations = fields.tokens(for: "expect").map { $0.lowercased() }
        // A server must ignore 100-continue from HTTP/1.0 clients (RFC 9110 §10.1.1).
        if !expectations.isEmpty && version == .http1_1 {
            guard expectations.allSatisfy({ $0 == "100-continue" }) else { throw .unsupportedExpectation }
            expectsContinue = true
        }

        let head = HTTPRequestHead(
            method: method, target: target, path: parsedTarget.path, queryItems: parsedTarget.queryItems,
            version: version, headers: fields, framing: framing, keepAlive: keepAlive,
            expectsContinue: expectsContinue)
        fields = HTTPHeaders()
        fieldBytes = 0
        bodyTotal = 0
        switch framing {
        case .none, .contentLength(0): state = .complete
        case .contentLength(let length): state = .fixedBody(remaining: length)
        case .chunked: state = .chunkSize
        }
        return head
    }

    /// RFC 9112 §6: the strict reading, refusing every ambiguous combination (request smuggling).
    private func bodyFraming() throws(HTTPRequestError) -> HTTPBodyFraming {
        let transferEncodings = fields.values(for: "transfer-encoding")
        let contentLengths = fields.values(for: "content-length")
        if !transferEncodings.isEmpty {
            if !contentLengths.isEmpty { throw .contentLengthWithTransferEncoding }
            if version == .http1_0 { throw .transferEncodingInHTTP10 }
            let codings = transferEncodings.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
                .map { $0.trimmingHTTPWhitespace().lowercased() }
            guard codings.allSatisfy({ HTTPSyntax.isToken($0.utf8) }) else { throw .invalidTransferEncoding }
            // Without chunked last the body's end cannot be found: 400 and close (RFC 9112 §6.3).
            guard codings.last == "chunked" else { throw .invalidTransferEncoding }
            if codings.dropLast().contains("chunked") { throw .invalidTransferEncoding }
            // We decode no other coding (gzip, ...), so a stack of them is unsupported too.
            guard codings.count == 1 else { throw .unsupportedTransferEncoding }
            return .chunked
        }
        guard !contentLengths.isEmpty else { return .none }
        guard contentLengths.count == 1 else { throw .duplicateContentLength }
        let text = contentLengths[0]
        if text.contains(",") { throw .duplicateContentLength }
        // 1*DIGIT only: no sign, no spaces inside, and short enough that it cannot overflow.
        guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
            let length = Int(text)
        else { throw .invalidContentLength }
        if length > bodyLimit { throw .bodyTooLarge }
        return .contentLength(length)
    }

    // MARK: Chunks

    private mutating func parseChunkSize(_ line: Range<Int>) throws(HTTPRequestError) -> Int {
        let bytes = buffer[line]
        var index = bytes.startIndex
        var size = 0
        while index < bytes.endIndex, let value = HTTPSyntax.hexValue(bytes[index]) {
            size = size * 16 + value
            // Checking against the remaining budget on every digit also rules out overflow.
            if size > bodyLimit - bodyTotal { throw .bodyTooLarge }
            index += 1
        }
        guard index > bytes.startIndex else { throw .invalidChunk }
        try Self.validateChunkExtensions(bytes[index...])
        bodyTotal += size
        return size
    }

    /// chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] ). Extensions are
    /// checked and then ignored, as RFC 9112 §7.1.1 allows.
    static func validateChunkExtensions(_ bytes: ArraySlice<UInt8>) throws(HTTPRequestError) {
        var index = bytes.startIndex
        func skipWhitespace() {
            while index < bytes.endIndex, HTTPSyntax.isWhitespace(bytes[index]) { index += 1 }
        }
        func token() -> Bool {
            let begin = index
            while index < bytes.endIndex, HTTPSyntax.isToken(bytes[index]) { index += 1 }
            return index > begin
        }
        while true {
            skipWhitespace()
            if index == bytes.endIndex { return }
            guard bytes[index] == UInt8(ascii: ";") else { throw .invalidChunk }
            index += 1
            skipWhitespace()
            guard token() else { throw .invalidChunk }
            skipWhitespace()
            guard index < bytes.endIndex, bytes[index] == UInt8(ascii: "=") else { continue }
            index += 1
            skipWhitespace()
            if index < bytes.endIndex, bytes[index] == UInt8(ascii: "\"") {
                index += 1
                var closed = false
                while index < bytes.endIndex {
                    let byte = bytes[index]
                    if byte == UInt8(ascii: "\"") {
                        index += 1
                        closed = true
                        break
                    }
                    if byte == UInt8(ascii: "\\") {
                        index += 1
                        guard index < bytes.endIndex, HTTPSyntax.isFieldValueByte(bytes[index]) else { throw .invalidChunk }
                    } else if !HTTPSyntax.isFieldValueByte(byte) {
                        throw .invalidChunk
                    }
                    index += 1
                }
                guard closed else { throw .invalidChunk }
            } else {
                guard token() else { throw .invalidChunk }
            }
        }
    }
}
