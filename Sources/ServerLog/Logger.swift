import Foundation

/// A tiny structured logger, one line per event on stderr: a JSON object (`ts`, `level`, `msg`,
/// then the fields) that log collectors parse without configuration, or, for a person at a
/// terminal, `time LEVEL message key=value ...`. Thread-safe: each line is one `write(2)`,
/// which the kernel does not interleave for lines this short.
public struct Logger: Sendable {
    public let level: LogLevel
    public let format: LogFormat
    private let sink: @Sendable (String) -> Void

    /// Writes to stderr.
    public init(level: LogLevel, format: LogFormat = .json) {
        self.init(level: level, format: format) { line in
            var bytes = Array(line.utf8)
            bytes.append(UInt8(ascii: "\n"))
            bytes.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
        }
    }

    /// Writes each line to `sink` (tests).
    public init(level: LogLevel, format: LogFormat = .json, sink: @escaping @Sendable (String) -> Void) {
        self.level = level
        self.format = format
        self.sink = sink
    }

    /// A logger that drops everything.
    public static let disabled = Logger(level: .critical) { _ in }

    public func log(_ level: LogLevel, _ message: String, _ fields: [String: LogValue] = [:]) {
        guard level >= self.level else { return }
        if format == .text {
            var line = Self.timestamp() + " " + level.rawValue.uppercased().padding(toLength: 7, withPad: " ", startingAt: 0) + message
            for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
                line += " " + key + "=" + value.text
            }
            sink(line)
            return
        }
        var line = "{\"ts\":" + jsonString(Self.timestamp()) + ",\"level\":\"\(level.rawValue)\",\"msg\":" + jsonString(message)
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
            line += "," + jsonString(key) + ":" + value.json
        }
        sink(line + "}")
    }

    public func info(_ message: String, _ fields: [String: LogValue] = [:]) { log(.info, message, fields) }
    public func warning(_ message: String, _ fields: [String: LogValue] = [:]) { log(.warning, message, fields) }
    public func error(_ message: String, _ fields: [String: LogValue] = [:]) { log(.error, message, fields) }
    public func debug(_ message: String, _ fields: [String: LogValue] = [:]) { log(.debug, message, fields) }

    private static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }
}

/// A value in a log line.
public enum LogValue: Sendable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    case string(String)
    case int(Int)
    case double(Double)
    case bool(Bool)

    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }

    /// Plain for words, quoted when the value has spaces, quotes or is empty.
    var text: String {
        switch self {
        case .string(let text):
            let plain = !text.isEmpty && !text.contains { $0 == " " || $0 == "\"" || $0 == "=" || $0.isNewline }
            return plain ? text : jsonString(text)
        case .int, .double, .bool: return json
        }
    }

    var json: String {
        switch self {
        case .string(let text): return jsonString(text)
        case .int(let number): return String(number)
        case .double(let number): return number.isFinite ? String(format: "%.6g", number) : "null"
        case .bool(let flag): return flag ? "true" : "false"
        }
    }
}

/// A string as a JSON literal (`/` unescaped, as the API's responses write it).
private func jsonString(_ text: String) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.withoutEscapingSlashes]
    // Encoding a String cannot fail.
    return (try? encoder.encode(text)).map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
}
