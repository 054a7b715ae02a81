import Foundation

/// A tiny structured logger: one JSON object per line on stderr (`ts`, `level`, `msg`, then the
/// fields), so log collectors parse it without configuration. Thread-safe: each line is one
/// `write(2)`, which the kernel does not interleave for lines this short.
public struct Logger: Sendable {
    public let level: LogLevel
    private let sink: @Sendable (String) -> Void

    /// Writes to stderr.
    public init(level: LogLevel) {
        self.init(level: level) { line in
            var bytes = Array(line.utf8)
            bytes.append(UInt8(ascii: "\n"))
            bytes.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
        }
    }

    /// Writes each line to `sink` (tests).
    public init(level: LogLevel, sink: @escaping @Sendable (String) -> Void) {
        self.level = level
        self.sink = sink
    }

    /// A logger that drops everything.
    public static let disabled = Logger(level: .critical) { _ in }

    public func log(_ level: LogLevel, _ message: String, _ fields: [String: LogValue] = [:]) {
        guard level >= self.level else { return }
        var line = "{\"ts\":" + JSON.encodeString(Self.timestamp()) + ",\"level\":\"\(level.rawValue)\",\"msg\":" + JSON.encodeString(message)
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
            line += "," + JSON.encodeString(key) + ":" + value.json
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

    var json: String {
        switch self {
        case .string(let text): return JSON.encodeString(text)
        case .int(let number): return String(number)
        case .double(let number): return number.isFinite ? String(format: "%.6g", number) : "null"
        case .bool(let flag): return flag ? "true" : "false"
        }
    }
}
