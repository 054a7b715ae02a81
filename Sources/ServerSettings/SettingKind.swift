import Foundation

/// How a setting is given on the command line: one value, a repeatable option (a comma-separated
/// list in the environment, an array in the file), or a switch without a value.
public enum FlagStyle: Sendable, Equatable {
    case value, repeatable, toggle
}

/// The values a setting accepts and how each source writes them: text (environment and flags),
/// JSON (the file), and the range every value must lie in, whatever its source.
public struct SettingKind<Value: Sendable>: Sendable {
    /// What a value must look like, for parse errors: "an integer", "one of text, json".
    let expected: String
    /// The accepted values, for `--help` and the README table: "0 to 65535", "seconds > 0".
    let accepts: String
    let style: FlagStyle
    /// A value written as text (an environment variable, a flag); nil: not a value of this kind.
    /// For a repeatable setting, the environment's comma-separated list or the flag's values.
    let parse: @Sendable ([String]) -> Value?
    /// A value of the JSON file; nil: the wrong type.
    let decode: @Sendable (Any) -> Value?
    /// The range rule a value breaks ("must be at least 1"), or nil.
    let violation: @Sendable (Value) -> String?
    /// Whether an empty environment variable counts as not set.
    var unsetWhenEmpty = false
}

extension SettingKind where Value == Int {
    static func integer(in range: ClosedRange<Int>) -> Self {
        integer(accepts: "\(range.lowerBound) to \(range.upperBound)", rule: "must be between \(range.lowerBound) and \(range.upperBound)") {
            range.contains($0)
        }
    }

    static func integer(atLeast minimum: Int) -> Self {
        integer(accepts: "an integer >= \(minimum)", rule: "must be at least \(minimum)") { $0 >= minimum }
    }

    private static func integer(accepts: String, rule: String, _ allowed: @escaping @Sendable (Int) -> Bool) -> Self {
        Self(
            expected: "an integer", accepts: accepts, style: .value, parse: { $0.last.flatMap { Int($0) } },
            decode: { JSONValue.integer($0) }, violation: { allowed($0) ? nil : rule })
    }
}

extension SettingKind where Value == Double {
    /// A duration in seconds, finite and positive.
    static let positiveSeconds = seconds(accepts: "seconds > 0", rule: "must be a positive number") { $0 > 0 }
    /// A duration in seconds, finite and not negative.
    static let seconds = seconds(accepts: "seconds >= 0", rule: "must be a number >= 0") { $0 >= 0 }

    private static func seconds(accepts: String, rule: String, _ allowed: @escaping @Sendable (Double) -> Bool) -> Self {
        Self(
            expected: "a number", accepts: accepts, style: .value, parse: { $0.last.flatMap { Double($0) } },
            decode: { JSONValue.number($0) }, violation: { $0.isFinite && allowed($0) ? nil : rule })
    }
}

extension SettingKind where Value == String {
    /// Any text but the empty one.
    static func text(accepts: String) -> Self {
        Self(
            expected: "a string", accepts: accepts, style: .value, parse: { $0.last }, decode: { $0 as? String },
            violation: { $0.isEmpty ? "must not be empty" : nil })
    }
}

extension SettingKind where Value == String? {
    /// A file path; an empty environment variable counts as not set.
    static let path = Self(
        expected: "a string", accepts: "a file path", style: .value, parse: { texts -> String?? in texts.last.map { .some($0) } },
        decode: { value -> String?? in (value as? String).map { .some($0) } }, violation: { _ in nil }, unsetWhenEmpty: true)
}

extension SettingKind where Value == Bool {
    /// On or off: a switch on the command line, `true`/`false` (or 1/0, yes/no) elsewhere.
    static let toggle = Self(
        expected: "true or false", accepts: "true or false", style: .toggle,
        parse: { texts in
            switch texts.last?.lowercased() {
            case "1", "true", "yes": true
            case "0", "false", "no", "": false
            default: nil
            }
        },
        decode: { JSONValue.bool($0) }, violation: { _ in nil })
}

extension SettingKind where Value == [String] {
    /// A list: repeated flags, comma-separated in the environment, an array of strings in the file.
    /// `rule` is the message when an element is not `allowed`.
    static func list(accepts: String, rule: String, allowed: @escaping @Sendable (String) -> Bool) -> Self {
        Self(
            expected: "an array of strings", accepts: accepts, style: .repeatable,
            parse: { texts in
                texts.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            },
            decode: { value in
                guard let list = value as? [Any], let texts = list as? [String], texts.count == list.count else { return nil }
                return texts
            },
            violation: { $0.allSatisfy(allowed) ? nil : rule })
    }
}

extension SettingKind where Value: RawRepresentable & CaseIterable, Value.RawValue == String {
    /// One of an enumeration's raw values, in any case.
    static var choice: Self {
        let names = Value.allCases.map(\.rawValue).joined(separator: ", ")
        return Self(
            expected: "one of \(names)", accepts: names, style: .value, parse: { $0.last.flatMap { Value(rawValue: $0.lowercased()) } },
            decode: { ($0 as? String).flatMap { Value(rawValue: $0.lowercased()) } }, violation: { _ in nil })
    }
}

extension SettingKind {
    /// One of an enumeration's raw values, or not set (the default decides at run time).
    static func optional<Choice>(_ choice: SettingKind<Choice>) -> Self where Value == Choice? {
        Self(
            expected: choice.expected, accepts: choice.accepts, style: choice.style,
            parse: { texts -> Choice?? in choice.parse(texts).map { .some($0) } },
            decode: { value -> Choice?? in choice.decode(value).map { .some($0) } },
            violation: { $0.flatMap(choice.violation) })
    }
}

/// The JSON file's numbers and booleans, told apart: Foundation's parser gives both as NSNumber.
enum JSONValue {
    /// Booleans arrive as NSNumbers of ObjC type `c`; that is the only way to tell them from 0 and 1.
    private static func isBool(_ number: NSNumber) -> Bool { String(cString: number.objCType) == "c" }

    static func integer(_ value: Any) -> Int? {
        guard let number = value as? NSNumber, !(value is String), !isBool(number) else { return nil }
        let double = number.doubleValue
        guard double == double.rounded(), abs(double) < 9.2e18 else { return nil }
        return ["d", "f"].contains(String(cString: number.objCType)) ? Int(double) : number.intValue
    }

    static func number(_ value: Any) -> Double? {
        guard let number = value as? NSNumber, !(value is String), !isBool(number), number.doubleValue.isFinite else { return nil }
        return number.doubleValue
    }

    static func bool(_ value: Any) -> Bool? {
        guard let number = value as? NSNumber, !(value is String), isBool(number) else { return nil }
        return number.boolValue
    }
}
