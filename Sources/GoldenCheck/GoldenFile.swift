import Foundation
import ModelFiles

/// A golden file in the `shared/golden` format, recognised from its tensors.
public struct GoldenFile {
    public enum Kind: String, Sendable {
        case enatForward = "ENAT forward"
        case enatTrajectory = "ENAT sampler trajectory"
        case vqgan = "VQGAN decoder"
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
