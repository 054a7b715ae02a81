import Foundation
import TestSupport

/// A safetensors file taken apart (`[u64 header length][JSON header][data]`) so that mutations
/// can change one tensor's shape, dtype or bytes, or one metadata value, and write it back.
public struct SafeTensorsImage {
    public struct Tensor {
        public var name: String
        public var dtype: String
        public var shape: [Int]
        public var data: [UInt8]
    }

    public var tensors: [Tensor]
    public var metadata: [String: String]
    /// Where the JSON header ends in the original file.
    public let headerEnd: Int

    /// Parses a well-formed file (a committed fixture); nil for anything else.
    public init?(_ bytes: [UInt8]) {
        guard bytes.count >= 8 else { return nil }
        let length = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        guard length > 0, 8 + length <= bytes.count,
            let header = try? JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + length)])) as? [String: Any]
        else { return nil }
        headerEnd = 8 + length
        metadata = (header["__metadata__"] as? [String: String]) ?? [:]
        var tensors: [Tensor] = []
        for (name, value) in header where name != "__metadata__" {
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
            else { return nil }
            tensors.append(
                Tensor(name: name, dtype: dtype, shape: shape, data: Array(bytes[(headerEnd + offsets[0])..<(headerEnd + offsets[1])])))
        }
        self.tensors = tensors.sorted { $0.name < $1.name }
    }

    /// The file, with offsets laid out afresh; `rawShape`/`rawDType` override one tensor's
    /// header entry without touching its bytes (a header that disagrees with its data).
    public func encoded(rawShape: (String, [Int])? = nil, rawDType: (String, String)? = nil) -> [UInt8] {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var data: [UInt8] = []
        data.reserveCapacity(tensors.reduce(0) { $0 + $1.data.count })
        for tensor in tensors {
            let shape = rawShape?.0 == tensor.name ? rawShape!.1 : tensor.shape
            let dtype = rawDType?.0 == tensor.name ? rawDType!.1 : tensor.dtype
            header[tensor.name] = ["dtype": dtype, "shape": shape, "data_offsets": [data.count, data.count + tensor.data.count]]
            data += tensor.data
        }
        let json = Array(try! JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]))
        let length = UInt64(json.count)
        var file = (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) }
        file.reserveCapacity(8 + json.count + data.count)
        file.append(contentsOf: json)
        file.append(contentsOf: data)
        return file
    }

    public func index(of name: String) -> Int? { tensors.firstIndex { $0.name == name } }
}

/// The mutation corpus of one safetensors file: every class of the list, seeded.
public enum SafeTensorsMutations {
    static func elementSize(_ dtype: String) -> Int { ["F32": 4, "I32": 4, "F16": 2, "BF16": 2, "I64": 8][dtype] ?? 1 }

    /// Tensors to mutate: every one outside `weights.*` (a sample of `sample` if more), plus
    /// a few weights.
    static func chosen(_ image: SafeTensorsImage, sample: Int, generator: inout SplitMix64) -> [String] {
        let names = image.tensors.map(\.name)
        var cases = names.filter { !$0.hasPrefix("weights.") }
        if cases.count > sample {
            // Always step 0 of a trajectory (read first), then a seeded sample of the rest.
            let first = cases.filter { $0.hasPrefix("step0.") || $0.hasPrefix("case.") }
            cases = first + cases.filter { !first.contains($0) }.shuffled(using: &generator).prefix(max(0, sample - first.count))
        }
        let weights = names.filter { $0.hasPrefix("weights.") }.shuffled(using: &generator).prefix(3)
        return cases + weights
    }

    /// `sample` tensors and `metadataSample` hostile values per metadata key are mutated.
    public static func mutants(of bytes: [UInt8], seed: UInt64, sample: Int = 12, metadataSample: Int = 40) -> [Mutant] {
        guard let image = SafeTensorsImage(bytes) else { return [] }
        var generator = SplitMix64(seed: seed)
        var result = ByteMutations.truncated(bytes, marks: [image.headerEnd], seed: seed)
        result += ByteMutations.bitFlipped(bytes, in: 0..<8, count: 3, flips: 1, seed: seed &+ 1)
        result += ByteMutations.bitFlipped(bytes, in: 8..<image.headerEnd, count: 8, flips: 2, seed: seed &+ 2)
        result += ByteMutations.bitFlipped(bytes, count: 3, flips: 16, seed: seed &+ 3)

        for name in chosen(image, sample: sample, generator: &generator) {
            guard let at = image.index(of: name) else { continue }
            let tensor = image.tensors[at]
            func with(_ change: (inout SafeTensorsImage.Tensor) -> Void) -> [UInt8] {
                var copy = image
                change(&copy.tensors[at])
                return copy.encoded()
            }
            let first = tensor.shape.isEmpty ? [] : Array(tensor.shape.dropFirst())
            result.append(Mutant(kind: "huge-dim", detail: "\(name) [2^40, ...]", bytes: image.encoded(rawShape: (name, [1 << 40] + first))))
            result.append(Mutant(kind: "huge-dim", detail: "\(name) [2^32, 2^32]", bytes: image.encoded(rawShape: (name, [1 << 32, 1 << 32]))))
            result.append(Mutant(kind: "negative-dim", detail: "\(name) [-1, ...]", bytes: image.encoded(rawShape: (name, [-1] + first))))
            result.append(
                Mutant(
                    kind: "huge-dim", detail: "\(name) [0, 2^40, 2^40] (no bytes)",
                    bytes: with {
                        $0.shape = [0, 1 << 40, 1 << 40]; $0.data = []
                    }))
            result.append(
                Mutant(
                    kind: "empty-tensor", detail: name,
                    bytes: with {
                        $0.shape = [0]; $0.data = []
                    }))
            result.append(Mutant(kind: "short-tensor", detail: name, bytes: with(shorten)))
            result.append(Mutant(kind: "wrong-dtype", detail: "\(name) as F64", bytes: image.encoded(rawDType: (name, "F64"))))
            let swapped = ["F32": "I32", "I32": "F32", "I64": "F32", "F16": "I32", "BF16": "F32"][tensor.dtype] ?? "F32"
            result.append(Mutant(kind: "wrong-dtype", detail: "\(name) as \(swapped)", bytes: with { retype(&$0, swapped) }))
            if tensor.dtype == "I32" || tensor.dtype == "I64" {
                result.append(Mutant(kind: "ids-past-int32", detail: "\(name)[0] = 2^40", bytes: with { widen(&$0, first: 1 << 40) }))
                result.append(Mutant(kind: "ids-past-int32", detail: "\(name) all Int64.min", bytes: with { widen(&$0, all: Int64.min) }))
            }
            var removed = image
            removed.tensors.remove(at: at)
            result.append(Mutant(kind: "missing-tensor", detail: name, bytes: removed.encoded()))
        }

        for key in image.metadata.keys.sorted() {
            let value = image.metadata[key]!
            // A seeded sample: every leaf's variants are in the bundle tests, and each golden mutant
            // costs a whole check.
            var variants = JSONMutations.mutants(of: Data(value.utf8)).shuffled(using: &generator).prefix(metadataSample)
                .map { ($0.name, String(decoding: $0.bytes, as: UTF8.self)) }
            variants += [("not JSON", "{\"steps\": "), ("wrong type", "[1, 2, 3]")]
            for (detail, text) in variants {
                var copy = image
                copy.metadata[key] = text
                result.append(Mutant(kind: "hostile-config", detail: "\(key): \(detail)", bytes: copy.encoded()))
            }
            var copy = image
            copy.metadata[key] = nil
            result.append(Mutant(kind: "missing-key", detail: "metadata \(key)", bytes: copy.encoded()))
        }
        return result
    }

    /// One element fewer along the first dimension above 1, bytes cut to match.
    static func shorten(_ tensor: inout SafeTensorsImage.Tensor) {
        if let d = tensor.shape.firstIndex(where: { $0 > 1 }) { tensor.shape[d] -= 1 } else { tensor.shape = tensor.shape.map { _ in 0 } }
        let count = tensor.shape.reduce(1, *)
        tensor.data = Array(tensor.data.prefix(count * elementSize(tensor.dtype)))
    }

    /// The same bytes read as another type of the same width; other widths get zeros.
    static func retype(_ tensor: inout SafeTensorsImage.Tensor, _ dtype: String) {
        let count = tensor.shape.reduce(1, *)
        if elementSize(dtype) != elementSize(tensor.dtype) { tensor.data = [UInt8](repeating: 0, count: count * elementSize(dtype)) }
        tensor.dtype = dtype
    }

    /// An integer tensor rewritten as I64 with `first` in element 0, or every element `all`.
    static func widen(_ tensor: inout SafeTensorsImage.Tensor, first: Int64? = nil, all: Int64? = nil) {
        let size = elementSize(tensor.dtype)
        var values: [Int64] = stride(from: 0, to: tensor.data.count, by: size).map { at in
            let raw = tensor.data[at..<(at + size)].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * $1.offset) }
            return size == 4 ? Int64(Int32(truncatingIfNeeded: raw)) : Int64(bitPattern: raw)
        }
        if let all { values = values.map { _ in all } }
        if let first, !values.isEmpty { values[0] = first }
        tensor.dtype = "I64"
        tensor.data = values.flatMap { value in (0..<8).map { UInt8(truncatingIfNeeded: UInt64(bitPattern: value) >> (8 * $0)) } }
    }
}
