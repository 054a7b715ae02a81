import Foundation
import ModelBundle

extension ServerConfiguration {
    /// The settings one source (file, environment or flags) sets; the others it leaves alone.
    public struct Overrides: Sendable {
        private var changes: [String: AnySetting.Change] = [:]

        public init() {}

        /// The file keys of the settings this source sets.
        public var keys: Set<String> { Set(changes.keys) }

        /// Sets `setting` to `value`.
        public mutating func set<Value>(_ setting: ServerSetting<Value>, _ value: Value) {
            let property = setting.property
            changes[setting.key] = { $0[keyPath: property] = value }
        }

        /// Applies the changes in the table's order.
        func apply(to configuration: inout ServerConfiguration) {
            for setting in Setting.all {
                changes[setting.key]?(&configuration)
            }
        }

        /// Reads a JSON configuration file (snake_case keys); unknown keys are errors, so a
        /// misspelt setting is not silently ignored. `null` counts as not set.
        public static func file(at path: String) throws(ConfigurationError) -> Overrides {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConfigurationError("cannot read configuration file \(path)")
            }
            do {
                return try json(data)
            } catch {
                throw ConfigurationError("configuration file \(path): \(error.message)")
            }
        }

        static func json(_ data: Data) throws(ConfigurationError) -> Overrides {
            let object: Any
            do {
                object = try JSONSerialization.jsonObject(with: data, options: [])
            } catch {
                let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
                throw ConfigurationError("not valid JSON" + (detail.map { ": \($0)" } ?? ""))
            }
            guard let fields = object as? [String: Any] else { throw ConfigurationError("must hold a JSON object") }
            let keys = Setting.all.map(\.key)
            for key in fields.keys.sorted() where Setting.named(key) == nil {
                let hint = EditDistance.closest(to: key, in: keys, limit: 1).first.map { "; did you mean '\($0)'?" }
                throw ConfigurationError("unknown key '\(key)'" + (hint ?? "; the keys are \(keys.joined(separator: ", "))"))
            }
            var result = Overrides()
            for setting in Setting.all {
                guard let value = fields[setting.key], !(value is NSNull) else { continue }
                guard let change = setting.decode(value) else {
                    throw ConfigurationError("key '\(setting.key)': must be \(setting.expected).")
                }
                result.changes[setting.key] = change
            }
            return result
        }

        /// The `ENAT_*` variables of `environment` (values trimmed; lists comma-separated).
        public static func environment(_ environment: [String: String]) throws(ConfigurationError) -> Overrides {
            var result = Overrides()
            for setting in Setting.all {
                guard let text = environment[setting.environmentName]?.trimmingCharacters(in: .whitespaces) else { continue }
                if text.isEmpty && setting.unsetWhenEmpty { continue }
                guard let change = setting.parse([text]) else {
                    throw ConfigurationError("\(setting.environmentName)='\(text)' is not \(setting.expected)")
                }
                result.changes[setting.key] = change
            }
            return result
        }

        /// Command-line values by file key, as given: one for an option, several for a repeatable
        /// one, `["true"]` for a switch; settings without values are not set.
        public static func flags(_ given: [String: [String]]) throws(ConfigurationError) -> Overrides {
            var result = Overrides()
            for (key, texts) in given where !texts.isEmpty {
                guard let setting = Setting.named(key) else { throw ConfigurationError("no setting has the key '\(key)'") }
                guard let change = setting.parse(texts) else {
                    throw ConfigurationError("--\(setting.flag) '\(texts.joined(separator: ","))' is not \(setting.expected)")
                }
                result.changes[setting.key] = change
            }
            return result
        }
    }

    /// Applies every setting that `overrides` sets.
    public mutating func apply(_ overrides: Overrides) {
        overrides.apply(to: &self)
    }

    /// The effective configuration: defaults < file < environment < flags, validated.
    /// The file is `configFile` (a flag), else `$ENAT_CONFIG`, else `Config/enat-serve.json` if it exists;
    /// a file that is named explicitly must exist.
    public static func load(
        configFile: String?, environment: [String: String], flags: Overrides,
        fileExists: (String) -> Bool = { FileManager.default.fileExists(atPath: $0) }
    ) throws(ConfigurationError) -> (configuration: ServerConfiguration, file: String?) {
        var configuration = ServerConfiguration()
        let named = configFile ?? environment[Setting.ConfigFile.environmentName].flatMap { $0.isEmpty ? nil : $0 }
        let defaultPath = Setting.ConfigFile.defaultPath
        let file = named ?? (fileExists(defaultPath) ? defaultPath : nil)
        if let file {
            guard fileExists(file) else { throw ConfigurationError("configuration file \(file) does not exist") }
            configuration.apply(try .file(at: file))
        }
        configuration.apply(try .environment(environment))
        configuration.apply(flags)
        try configuration.validate()
        return (configuration, file)
    }
}
