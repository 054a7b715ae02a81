import Foundation
import ModelFiles
import TestSupport
import VQGAN
import XCTest

enum Golden {
    static func vqganTiny() throws -> SafeTensorsFile {
        try SafeTensorsFile(path: try GoldenFolder.file("vqgan_tiny.safetensors"))
    }

    static func configuration(_ file: SafeTensorsFile) throws -> VQGANConfiguration {
        try VQGANConfiguration(json: try XCTUnwrap(file.metadata["config"]))
    }
}

/// A view of an archive with some tensors hidden or their declared shapes changed.
struct EditedArchive: TensorArchive {
    let base: any TensorArchive
    var removed: Set<String> = []
    var reshaped: [String: [Int]] = [:]

    var sourceDescription: String { "edited " + base.sourceDescription }
    var names: [String] { base.names.filter { !removed.contains($0) } }

    func info(_ name: String) -> TensorInfo? {
        guard !removed.contains(name), let info = base.info(name) else { return nil }
        if let shape = reshaped[name] { return TensorInfo(dtype: info.dtype, shape: shape) }
        return info
    }

    func readFloats(_ name: String, into destination: UnsafeMutableBufferPointer<Float>) throws(ModelFileError) {
        guard !removed.contains(name) else { throw .missingTensor(file: sourceDescription, name: name) }
        try base.readFloats(name, into: destination)
    }

    func readInts(_ name: String) throws(ModelFileError) -> [Int] { try base.readInts(name) }
}
