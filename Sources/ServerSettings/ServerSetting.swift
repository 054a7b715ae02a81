import Foundation

/// One setting of `enat serve`, declared once: its file key (the environment variable is `ENAT_`
/// and the key upper-cased; the flag is the key with dashes unless named), its help, its default,
/// the values it accepts, and the `ServerConfiguration` property it fills. The file reader, the
/// environment reader, the flags' help and the README's table all come from these declarations.
public struct ServerSetting<Value: Sendable>: Sendable {
    /// The configuration file's key (snake_case).
    public let key: String
    /// The command-line flag, without dashes.
    public let flag: String
    /// What the setting does, one sentence.
    public let help: String
    public let defaultValue: Value
    /// The default as `--help` and the README say it ("4", "number of CPUs").
    public let defaultText: String
    let kind: SettingKind<Value>
    let property: WritableKeyPath<ServerConfiguration, Value> & Sendable

    init(
        _ key: String, _ property: WritableKeyPath<ServerConfiguration, Value> & Sendable, flag: String? = nil,
        default defaultValue: Value, shown defaultText: String, _ kind: SettingKind<Value>, help: String
    ) {
        self.key = key
        self.flag = flag ?? key.replacingOccurrences(of: "_", with: "-")
        self.help = help
        self.defaultValue = defaultValue
        self.defaultText = defaultText
        self.kind = kind
        self.property = property
    }

    public var environmentName: String { "ENAT_" + key.uppercased() }

    /// The text `--help` shows for the flag.
    public var helpText: String { AnySetting(self).helpText }
}

extension ServerSetting where Value: LosslessStringConvertible {
    /// A setting whose default is shown as it is written.
    init(
        _ key: String, _ property: WritableKeyPath<ServerConfiguration, Value> & Sendable, flag: String? = nil,
        default defaultValue: Value, _ kind: SettingKind<Value>, help: String
    ) {
        self.init(key, property, flag: flag, default: defaultValue, shown: defaultValue.description, kind, help: help)
    }
}

extension ServerSetting where Value == Double {
    /// A setting in seconds, shown without a fraction when it has none ("120", not "120.0").
    init(
        _ key: String, _ property: WritableKeyPath<ServerConfiguration, Value> & Sendable, flag: String? = nil,
        default defaultValue: Double, _ kind: SettingKind<Value>, help: String
    ) {
        let shown = defaultValue == defaultValue.rounded() ? String(Int(defaultValue)) : String(defaultValue)
        self.init(key, property, flag: flag, default: defaultValue, shown: shown, kind, help: help)
    }
}

/// A setting with its value type erased, as the table of every setting holds it.
public struct AnySetting: Sendable {
    public let key: String
    public let flag: String
    public let environmentName: String
    public let help: String
    public let defaultText: String
    /// The accepted values ("an integer >= 1", "text, json").
    public let accepts: String
    public let style: FlagStyle
    /// What a value must look like, for parse errors.
    let expected: String
    /// Whether an empty environment variable counts as not set.
    let unsetWhenEmpty: Bool
    /// A change from text (environment or flags); nil: the text is not a value of this setting.
    let parse: @Sendable ([String]) -> Change?
    /// A change from a JSON value; nil: the wrong type.
    let decode: @Sendable (Any) -> Change?
    /// The range rule the configuration's value breaks, or nil.
    let violation: @Sendable (ServerConfiguration) -> String?

    /// Sets one property of a configuration.
    typealias Change = @Sendable (inout ServerConfiguration) -> Void

    init<Value>(_ setting: ServerSetting<Value>) {
        key = setting.key
        flag = setting.flag
        environmentName = setting.environmentName
        help = setting.help
        defaultText = setting.defaultText
        accepts = setting.kind.accepts
        style = setting.kind.style
        expected = setting.kind.expected
        unsetWhenEmpty = setting.kind.unsetWhenEmpty
        let kind = setting.kind
        let property = setting.property
        @Sendable func change(_ value: Value) -> Change { { $0[keyPath: property] = value } }
        parse = { texts in kind.parse(texts).map(change) }
        decode = { json in kind.decode(json).map(change) }
        violation = { kind.violation($0[keyPath: property]) }
    }

    /// The text `--help` shows for the flag: what it does, its values, its key, variable and default.
    public var helpText: String {
        let environment = style == .repeatable ? "\(environmentName) (comma-separated)" : environmentName
        let values = style == .toggle ? "" : " Values: \(accepts)."
        return "\(help)\(values) Key: \(key). Env: \(environment). Default: \(defaultText)."
    }
}
