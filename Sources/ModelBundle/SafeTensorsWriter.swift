import Foundation
import ModelFiles

/// Writes float32 safetensors files, one tensor at a time, so that converting a multi-gigabyte
/// checkpoint needs memory for its largest tensor only.
///
/// Layout: `[u64 little-endian header length][JSON header, space-padded to 8 bytes][data]`,
/// tensors in name order, each `F32` little-endian. The header's keys are sorted and the file
/// is written beside its destination and renamed into place, so the same tensors always give
/// the same bytes and a reader never sees half a file.
public struct SafeTensorsWriter {
    public let path: String
    public var metadata: [String: String]
    private var tensors: [String: (shape: [Int], fill: (UnsafeMutableBufferPointer<Float>) throws -> Void)] = [:]

    public init(path: String, metadata: [String: String] = [:]) {
        self.path = path
        self.metadata = metadata
    }

    /// Adds a tensor whose values `fill` writes when the file is written (`count` = elements).
    public mutating func add(
        _ name: String, shape: [Int], fill: @escaping (UnsafeMutableBufferPointer<Float>) throws -> Void
    ) {
        tensors[name] = (shape, fill)
    }

    /// Adds a tensor from values in memory (`values.count` must equal the shape's product).
    public mutating func add(_ name: String, shape: [Int], values: [Float]) {
        precondition(values.count == shape.reduce(1, *), "tensor '\(name)': \(values.count) values for shape \(shape)")
        add(name, shape: shape) { destination in
            _ = destination.initialize(from: values)
        }
    }

    /// Adds an archive's tensor, converted to float32, under `newName` (default: the same name),
    /// with `shape` (default: the archive's shape; another shape of the same element count reshapes).
    public mutating func add(
        copying name: String, from archive: any TensorArchive, as newName: String? = nil, shape: [Int]? = nil
    ) throws(ModelBundleError) {
        guard let info = archive.info(name) else { throw .weights(.missingTensor(file: archive.sourceDescription, name: name)) }
        let target = shape ?? info.shape
        guard target.reduce(1, *) == info.elementCount else {
            throw .weights(.shapeMismatch(file: archive.sourceDescription, name: name, expected: target, found: info.shape))
        }
        guard info.dtype.isFloatingPoint else {
            throw .weights(.wrongType(file: archive.sourceDescription, name: name, dtype: info.dtype.rawValue))
        }
        add(newName ?? name, shape: target) { destination in try archive.readFloats(name, into: destination) }
    }

    public var names: [String] { tensors.keys.sorted() }

    /// The header bytes, padded: also decides every tensor's offsets.
    func header() throws(ModelBundleError) -> [UInt8] {
        var object: [String: Any] = [:]
        if !metadata.isEmpty { object["__metadata__"] = metadata }
        var offset = 0
        for name in names {
            let shape = tensors[name]!.shape
            let bytes = shape.reduce(1, *) * 4
            object[name] = ["dtype": "F32", "shape": shape, "data_offsets": [offset, offset + bytes]] as [String: Any]
            offset += bytes
        }
        var json: [UInt8]
        do {
            json = Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
        } catch {
            throw .cannotAccess(path: path, reason: "cannot encode the safetensors header: \(error)")
        }
        // The format pads the header with spaces so that the data starts 8-byte aligned.
        while json.count % 8 != 0 { json.append(0x20) }
        var result = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) }
        result += json
        return result
    }

    /// Writes the file (replacing any file at `path`).
    public func write() throws(ModelBundleError) {
        let temporary = path + ".partial"
        let manager = FileManager.default
        try? manager.removeItem(atPath: temporary)
        guard manager.createFile(atPath: temporary, contents: nil), let handle = FileHandle(forWritingAtPath: temporary) else {
            throw .cannotAccess(path: path, reason: "cannot create \(temporary)")
        }
        do {
            defer { try? handle.close() }
            try handle.write(contentsOf: try header())
            for name in names {
                let (shape, fill) = tensors[name]!
                let count = shape.reduce(1, *)
                var values = [Float](repeating: 0, count: count)
                try values.withUnsafeMutableBufferPointer { try fill($0) }
                // Little-endian hosts only (x86-64, arm64): the floats' bytes are the file's.
                try values.withUnsafeBytes { try handle.write(contentsOf: $0) }
            }
            try handle.synchronize()
        } catch let error as ModelBundleError {
            try? manager.removeItem(atPath: temporary)
            throw error
        } catch let error as ModelFileError {
            try? manager.removeItem(atPath: temporary)
            throw .weights(error)
        } catch {
            try? manager.removeItem(atPath: temporary)
            throw .cannotAccess(path: path, reason: "cannot write: \(error.localizedDescription)")
        }
        do {
            if manager.fileExists(atPath: path) { try manager.removeItem(atPath: path) }
            try manager.moveItem(atPath: temporary, toPath: path)
        } catch {
            throw .cannotAccess(path: path, reason: "cannot move \(temporary) into place: \(error.localizedDescription)")
        }
    }
}
