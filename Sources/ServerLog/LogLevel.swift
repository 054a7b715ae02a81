/// Log severity, least to most severe (swift-log's levels).
public enum LogLevel: String, Codable, Sendable, CaseIterable, Comparable {
    case trace, debug, info, notice, warning, error, critical

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// How log lines look: JSON objects for collectors, or `time LEVEL message key=value` for people.
public enum LogFormat: String, Codable, Sendable, CaseIterable {
    case text, json
}
