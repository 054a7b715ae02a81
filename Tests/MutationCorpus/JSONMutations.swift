import Foundation

/// Hostile values for every leaf of a JSON object (a `config.json`, a golden file's metadata):
/// numbers far past overflow, negative, zero, fractional; strings empty, escaping, long; keys
/// removed, null or of the wrong type.
public enum JSONMutations {
    /// Numbers that have broken configuration checks: `2^62` overflowed `ch * ch_mult[i]`.
    public static var hostileNumbers: [Any] {
        [
            -1, 0, 4_611_686_018_427_387_904, Int.max, Int.min, 2_147_483_648, 1e300, 0.5,
        ]
    }
    public static var hostileStrings: [Any] { ["", "../../etc/passwd", String(repeating: "x", count: 5000)] }

    /// Every variant of `json` (an object), deterministic in order; `json` that is not an
    /// object gives none.
    public static func mutants(of json: Data) -> [Mutant] {
        guard let root = try? JSONSerialization.jsonObject(with: json) else { return [] }
        var result: [Mutant] = []
        for path in leafPaths(root) {
            let leaf = value(at: path, in: root)
            let label = path.map { "\($0)" }.joined(separator: ".")
            let replacements: [(String, Any)]
            if let number = leaf as? NSNumber, String(cString: number.objCType) != "c" {
                replacements = hostileNumbers.map { ("\($0)", $0) }
            } else if leaf is String {
                replacements = hostileStrings.map { ("\"\(String(describing: $0).prefix(20))\"", $0) }
            } else {
                replacements = []
            }
            for (text, replacement) in replacements + [("null", NSNull()), ("[]", [Any]()), ("{}", [String: Any]())] {
                if let bytes = encode(setting(replacement, at: path, in: root)) {
                    result.append(Mutant(kind: "hostile-value", detail: "\(label) = \(text)", bytes: bytes))
                }
            }
            if case .key = path.last, let bytes = encode(removing(path, in: root)) {
                result.append(Mutant(kind: "missing-key", detail: label, bytes: bytes))
            }
        }
        return result
    }

    public enum Step: CustomStringConvertible {
        case key(String)
        case index(Int)

        public var description: String {
            switch self {
            case .key(let key): key
            case .index(let index): "[\(index)]"
            }
        }
    }

    /// Paths of every leaf and every array (an array is also replaced whole), sorted.
    static func leafPaths(_ value: Any, prefix: [Step] = []) -> [[Step]] {
        if let object = value as? [String: Any] {
            return object.keys.sorted().flatMap { leafPaths(object[$0]!, prefix: prefix + [.key($0)]) }
        }
        if let array = value as? [Any] {
            // Long arrays (class names) are sampled: their first and last entries.
            let indices = array.count <= 8 ? Array(array.indices) : [0, array.count - 1]
            return [prefix] + indices.flatMap { leafPaths(array[$0], prefix: prefix + [.index($0)]) }
        }
        return [prefix]
    }

    static func value(at path: [Step], in root: Any) -> Any {
        var current = root
        for step in path {
            switch step {
            case .key(let key): current = (current as! [String: Any])[key]!
            case .index(let index): current = (current as! [Any])[index]
            }
        }
        return current
    }

    static func setting(_ replacement: Any, at path: [Step], in root: Any) -> Any {
        guard let first = path.first else { return replacement }
        let rest = Array(path.dropFirst())
        switch first {
        case .key(let key):
            var object = root as! [String: Any]
            object[key] = setting(replacement, at: rest, in: object[key]!)
            return object
        case .index(let index):
            var array = root as! [Any]
            array[index] = setting(replacement, at: rest, in: array[index])
            return array
        }
    }

    static func removing(_ path: [Step], in root: Any) -> Any {
        guard let first = path.first else { return root }
        let rest = Array(path.dropFirst())
        switch first {
        case .key(let key):
            var object = root as! [String: Any]
            if rest.isEmpty { object[key] = nil } else { object[key] = removing(rest, in: object[key]!) }
            return object
        case .index(let index):
            var array = root as! [Any]
            if rest.isEmpty { array.remove(at: index) } else { array[index] = removing(rest, in: array[index]) }
            return array
        }
    }

    static func encode(_ value: Any) -> [UInt8]? {
        (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed])).map { Array($0) }
    }
}
