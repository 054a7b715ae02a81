import Foundation
import ModelFiles

/// A golden file in the `shared/golden` format, recognised from its tensors.
public struct GoldenFile {
    public enum Kind: String, Sendable {
        case enatForward = "ENAT forward"
        case enatTrajectory = "ENAT sampler trajectory"
        case vqgan = "VQGAN decoder"
        case vqganEncoder = "VQGAN encoder"
        case clipText = "CLIP text encoder"
        case captionENATForward = "caption ENAT forward"
    }

    public let path: String
    public let archive: SafeTensorsFile
    public let kind: Kind

    public init(path: String) throws {
        self.path = path
        archive = try SafeTensorsFile(path: path)
        let names = Set(archive.names)
        if names.contains("expect.full.logits") && names.contains("expect.reuse.logits") && names.contains("case.input_ids") {
            kind = .captionENATForward
        } else if names.contains("expect.full.logits") && names.contains("expect.reuse.logits") {
            kind = .enatForward
        } else if names.contains("step0.cond_logits") {
            kind = .enatTrajectory
        } else if names.contains("expect.z") && names.contains("expect.tokens") {
            kind = .vqganEncoder
        } else if names.contains("expect.image") {
            kind = .vqgan
        } else if names.contains("expect.pooler_output") {
            kind = .clipText
        } else {
            throw GoldenError.unrecognised(path)
        }
    }

    /// A JSON object from the metadata (`config`, `sampler`).
    public func metadataJSON(_ key: String) throws -> Data {
        guard let text = archive.metadata[key] else { throw GoldenError.missingMetadata(path, key) }
        return Data(text.utf8)
    }

    public func ints(_ name: String) throws -> [Int] { try archive.readInts(name) }
    public func floats(_ name: String) throws -> [Float] { try archive.readFloats(name) }
    /// Token ids or labels: every value must fit Int32 (an I64 tensor may hold anything).
    public func int32s(_ name: String) throws -> [Int32] {
        let values = try ints(name)
        guard let bad = values.firstIndex(where: { Int32(exactly: $0) == nil }) else { return values.map { Int32($0) } }
        throw GoldenError.inconsistent(path, "\(name)[\(bad)] is \(values[bad]), outside Int32")
    }

    /// A float tensor that must hold exactly `count` values, checked before anything indexes it.
    public func floats(_ name: String, count: Int) throws -> [Float] {
        let values = try floats(name)
        guard values.count == count else {
            throw GoldenError.inconsistent(path, "\(name) has \(values.count) values, expected \(count)")
        }
        return values
    }

    /// The product of sizes read from this file, or an error naming `what` when it overflows.
    public func product(_ factors: [Int], of what: String) throws -> Int {
        var result = 1
        for factor in factors {
            let (next, overflow) = result.multipliedReportingOverflow(by: factor)
            guard factor >= 0, !overflow else { throw GoldenError.inconsistent(path, "\(what) \(factors) is too large") }
            result = next
        }
        return result
    }

    public func shape(_ name: String) throws -> [Int] {
        guard let info = archive.info(name) else { throw ModelFileError.missingTensor(file: path, name: name) }
        return info.shape
    }
}

public enum GoldenError: Error, CustomStringConvertible {
    case unrecognised(String)
    case missingMetadata(String, String)
    case inconsistent(String, String)

    public var description: String {
        switch self {
        case .unrecognised(let path): "\(path): not a recognised golden file (no expect.* tensors of a known kind)"
        case .missingMetadata(let path, let key): "\(path): metadata '\(key)' is missing"
        case .inconsistent(let path, let why): "\(path): \(why)"
        }
    }
}
