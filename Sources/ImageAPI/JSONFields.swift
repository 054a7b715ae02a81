import Foundation

/// The top-level fields of a JSON object, read with strict types. Foundation's `JSONDecoder` on
/// Linux reports a wrong type or a fraction for an integer without saying which key, so request
/// bodies are read here, where every failure names its parameter.
///
/// `null` counts as absent (OpenAI's API treats it so). Integers accept integral numbers
/// (`2` or `2.0`), never strings or booleans; numbers must be finite (JSON has no NaN, and an
/// overflowing literal such as `1e999` is refused by the parser).
struct JSONFields {
    private let fields: [String: Any]

    /// Parses `bytes` as a JSON object whose keys all belong to `allowedKeys`.
    init(parsing bytes: [UInt8], allowedKeys: Set<String>) throws(APIError) {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(bytes), options: [])
        } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String
            throw APIError.invalid(nil, "The request body is not valid JSON" + (detail.map { ": \($0)" } ?? "."), code: "invalid_json")
        }
        guard let fields = object as? [String: Any] else {
            throw APIError.invalid(nil, "The request body must be a JSON object.", code: "invalid_json")
        }
        for key in fields.keys.sorted() where !allowedKeys.contains(key) {
            throw APIError.invalid(key, "Unrecognized request argument supplied: \(key).", code: "unknown_parameter")
        }
        self.fields = fields
    }

    /// Fields already known to be allowed (an element of an array, read with the same rules).
    private init(unchecked fields: [String: Any]) {
        self.fields = fields
    }

    private func value(_ key: String) -> Any? {
        guard let value = fields[key], !(value is NSNull) else { return nil }
        return value
    }

    private func typeError(_ key: String, _ expected: String) -> APIError {
        .invalid(key, "Invalid type for '\(key)': expected \(expected).", code: "invalid_type")
    }

    /// Booleans arrive as NSNumbers of ObjC type `c`; that is the only way to tell them from 0 and 1.
    private func number(_ key: String) throws(APIError) -> NSNumber? {
        guard let value = value(key) else { return nil }
        guard let number = value as? NSNumber, !(value is String), String(cString: number.objCType) != "c" else { return nil }
        return number
    }

    func string(_ key: String) throws(APIError) -> String? {
        guard let value = value(key) else { return nil }
        guard let text = value as? String else { throw typeError(key, "a string") }
        return text
    }

    func strings(_ key: String) throws(APIError) -> [String]? {
        guard let value = value(key) else { return nil }
        guard let list = value as? [Any], let texts = list as? [String], texts.count == list.count else {
            throw typeError(key, "an array of strings")
        }
        return texts
    }

    /// An array of integers (every element checked like `int`).
    func ints(_ key: String) throws(APIError) -> [Int]? {
        guard let value = value(key) else { return nil }
        guard let list = value as? [Any] else { throw typeError(key, "an array of integers") }
        return try list.enumerated().map { (index, element) throws(APIError) -> Int in
            guard let value = try JSONFields(unchecked: ["\(key)[\(index)]": element]).int("\(key)[\(index)]") else {
                throw typeError(key, "an array of integers")
            }
            return value
        }
    }

    func bool(_ key: String) throws(APIError) -> Bool? {
        guard let value = value(key) else { return nil }
        guard let number = value as? NSNumber, !(value is String), String(cString: number.objCType) == "c" else {
            throw typeError(key, "a boolean")
        }
        return number.boolValue
    }

    func double(_ key: String) throws(APIError) -> Double? {
        guard value(key) != nil else { return nil }
        guard let number = try number(key) else { throw typeError(key, "a number") }
        let double = number.doubleValue
        guard double.isFinite else { throw APIError.invalid(key, "'\(key)' must be a finite number.") }
        return double
    }

    func int(_ key: String) throws(APIError) -> Int? {
        guard value(key) != nil else { return nil }
        guard let number = try number(key) else { throw typeError(key, "an integer") }
        if String(cString: number.objCType) == "Q" { throw APIError.invalid(key, "'\(key)' is out of range.") }
        let double = number.doubleValue
        guard double == double.rounded(), abs(double) < 9.2e18 else {
            throw APIError.invalid(key, "Invalid value for '\(key)': expected an integer, got \(number).", code: "invalid_type")
        }
        return ["d", "f"].contains(String(cString: number.objCType)) ? Int(double) : number.intValue
    }

    /// A seed: any integer in 0...2^64-1, or -1 (nil: draw a random one).
    func seed(_ key: String) throws(APIError) -> UInt64? {
        if let number = try number(key), ["q", "l", "i", "s"].contains(String(cString: number.objCType)), number.int64Value == -1 {
            return nil
        }
        if let number = try number(key), ["d", "f"].contains(String(cString: number.objCType)), number.doubleValue == -1 {
            return nil
        }
        return try uint64(key)
    }

    /// Any integer in 0...2^64-1.
    func uint64(_ key: String) throws(APIError) -> UInt64? {
        guard value(key) != nil else { return nil }
        guard let number = try number(key) else { throw typeError(key, "an integer") }
        let type = String(cString: number.objCType)
        if type == "Q" { return number.uint64Value }
        if ["d", "f"].contains(type) {
            let double = number.doubleValue
            guard double == double.rounded(), double >= 0, double < 1.8e19 else {
                throw APIError.invalid(key, "'\(key)' must be an integer between 0 and 18446744073709551615 (or -1 for a random seed).")
            }
            return UInt64(double)
        }
        guard number.int64Value >= 0 else {
            throw APIError.invalid(key, "'\(key)' must be an integer between 0 and 18446744073709551615 (or -1 for a random seed).")
        }
        return UInt64(number.int64Value)
    }
}
