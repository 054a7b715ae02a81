import Foundation

/// The sampling parameters both generation endpoints accept besides their own (our extensions
/// to OpenAI's Images API), read from a JSON body or a query string with the same strictness.
struct SamplingFields: Sendable {
    var classLabel: Int?
    /// nil (absent, or -1 as A1111 and sd.cpp spell it): a random seed below 2^53.
    var seed: UInt64?
    var steps: Int?
    var guidanceScale: Double?
    var maskTemperature: Double?
    var sampleTemperature: Double?
    var preview: String?

    enum Key: String, CaseIterable {
        case seed, steps, preview
        case classLabel = "class_label"
        case guidanceScale = "guidance_scale"
        case maskTemperature = "mask_temperature"
        case sampleTemperature = "sample_temperature"
    }

    static let keys = Set(Key.allCases.map(\.rawValue))
}

extension SamplingFields {
    init(fields: JSONFields) throws(APIError) {
        classLabel = try fields.int(Key.classLabel.rawValue)
        seed = try fields.seed(Key.seed.rawValue)
        steps = try fields.int(Key.steps.rawValue)
        guidanceScale = try fields.double(Key.guidanceScale.rawValue)
        maskTemperature = try fields.double(Key.maskTemperature.rawValue)
        sampleTemperature = try fields.double(Key.sampleTemperature.rawValue)
        preview = try fields.string(Key.preview.rawValue)
    }

    /// Sets `key` from a query-string value: integers and finite numbers or a 400 naming it.
    mutating func set(_ key: Key, query value: String) throws(APIError) {
        switch key {
        case .seed: seed = value.trimmingCharacters(in: .whitespaces) == "-1" ? nil : try QueryValue.integer(value, key.rawValue)
        case .steps: steps = try QueryValue.integer(value, key.rawValue)
        case .classLabel: classLabel = try QueryValue.integer(value, key.rawValue)
        case .guidanceScale: guidanceScale = try QueryValue.number(value, key.rawValue)
        case .maskTemperature: maskTemperature = try QueryValue.number(value, key.rawValue)
        case .sampleTemperature: sampleTemperature = try QueryValue.number(value, key.rawValue)
        case .preview: preview = value
        }
    }
}

/// Typed query-string values, with the JSON readers' error codes.
enum QueryValue {
    static func integer<T: FixedWidthInteger>(_ value: String, _ name: String) throws(APIError) -> T {
        guard let number = T(value) else { throw APIError.invalid(name, "'\(name)' must be an integer; got '\(value)'.", code: "invalid_type") }
        return number
    }

    static func number(_ value: String, _ name: String) throws(APIError) -> Double {
        guard let number = Double(value), number.isFinite else {
            throw APIError.invalid(name, "'\(name)' must be a finite number; got '\(value)'.", code: "invalid_type")
        }
        return number
    }

    /// A comma-separated list of integers: `preview_steps=0,3,7`.
    static func integers(_ value: String, _ name: String) throws(APIError) -> [Int] {
        try value.split(separator: ",", omittingEmptySubsequences: false).map { part throws(APIError) -> Int in
            guard let number = Int(part.trimmingCharacters(in: .whitespaces)) else {
                throw APIError.invalid(name, "'\(name)' must be comma-separated integers; got '\(value)'.", code: "invalid_type")
            }
            return number
        }
    }
}
