import Foundation
import TestSupport
import XCTest

@testable import ModelFiles

/// The fixtures written by tools/fixtures/make_torch_fixtures.py, found next to this file.
enum TorchCheckpointFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }
    static func path(_ name: String) -> String { url(name).path }
    static func bytes(_ name: String) throws -> [UInt8] { Array(try Data(contentsOf: url(name))) }

    struct Expectation: Decodable {
        struct Tensor: Decodable {
            let dtype: String
            let shape: [Int]
            let stride: [Int]
            let storageOffset: Int
            let contiguous: Bool
            let values: [Double]
        }
        let tensors: [String: Tensor]
        let unsupported: [String: String]
        let stateDictPath: String
        let ignored: [String]?
        let placeholders: [String]?
        let strippedPrefix: String?
        let markers: [String]?
    }

    static func expectation(_ name: String) throws -> Expectation {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Expectation.self, from: Data(contentsOf: url(name)))
    }
}

final class TorchCheckpointTests: XCTestCase {
    private func assertMatches(
        _ checkpoint: TorchCheckpoint, _ expected: TorchCheckpointFixtures.Expectation,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        XCTAssertEqual(checkpoint.names, expected.tensors.keys.sorted(), file: file, line: line)
        XCTAssertEqual(checkpoint.stateDictPath, expected.stateDictPath, file: file, line: line)
        XCTAssertEqual(checkpoint.strippedPrefix, expected.strippedPrefix, file: file, line: line)
        XCTAssertEqual(checkpoint.ignoredKeys, expected.ignored ?? [], file: file, line: line)
        XCTAssertEqual(checkpoint.unsupportedTensors, expected.unsupported, file: file, line: line)
        for (name, tensor) in expected.tensors {
            let dtype = try XCTUnwrap(DType(rawValue: tensor.dtype), file: file, line: line)
            XCTAssertEqual(checkpoint.info(name), TensorInfo(dtype: dtype, shape: tensor.shape), name, file: file, line: line)
            let layout = try XCTUnwrap(checkpoint.layout(name), file: file, line: line)
            XCTAssertEqual(layout.stride, tensor.stride, name, file: file, line: line)
            XCTAssertEqual(layout.storageOffset, tensor.storageOffset, name, file: file, line: line)
            XCTAssertEqual(layout.isContiguous, tensor.contiguous, name, file: file, line: line)
            let floats = try checkpoint.readFloats(name)
            XCTAssertEqual(floats, tensor.values.map { Float($0) }, name, file: file, line: line)
            if dtype == .i32 || dtype == .i64 {
                XCTAssertEqual(try checkpoint.readInts(name), tensor.values.map { Int($0) }, name, file: file, line: line)
            }
        }
    }

    func testPlainStateDict() throws {
        let path = TorchCheckpointFixtures.path("torch_plain_state_dict.pt")
        let checkpoint = try TorchCheckpoint(path: path, verifyChecksums: true)
        let expected = try TorchCheckpointFixtures.expectation("torch_plain_state_dict.json")
        try assertMatches(checkpoint, expected)
        XCTAssertEqual(checkpoint.sourceDescription, path)
        XCTAssertTrue(checkpoint.placeholders.isEmpty, "\(checkpoint.placeholders)")
        // Every dtype is there, and the special layouts.
        XCTAssertEqual(Set(checkpoint.names.compactMap { checkpoint.info($0)?.dtype }), Set(DType.allCases))
        XCTAssertFalse(try XCTUnwrap(checkpoint.layout("transposed")).isContiguous)
        XCTAssertEqual(checkpoint.layout("shared.view")?.storageKey, checkpoint.layout("shared.whole")?.storageKey)
        XCTAssertEqual(checkpoint.layout("shared.view")?.storageOffset, 4)
        XCTAssertEqual(checkpoint.info("empty")?.elementCount, 0)
        XCTAssertEqual(try checkpoint.readFloats("empty"), [])
        XCTAssertEqual(try checkpoint.readInts("empty"), [])
        XCTAssertEqual(checkpoint.info("scalar")?.shape, [])
        XCTAssertEqual(try checkpoint.readFloats("scalar"), [2.5])
        XCTAssertEqual(try checkpoint.readInts("norm.num_batches_tracked"), [7])
        XCTAssertEqual(try checkpoint.readInts("ids.int64"), [0, -1, 2, 1 << 40, -(1 << 35), 5])

        // Unusable dtypes, non-integral reads, wrong sizes, missing names: clear errors.
        XCTAssertEqual(checkpoint.unsupportedTensors, ["double.buffer": "F64"])
        XCTAssertThrowsError(try checkpoint.readFloats("double.buffer")) { error in
            XCTAssertEqual(error as? ModelFileError, .wrongType(file: path, name: "double.buffer", dtype: "F64"))
        }
        XCTAssertThrowsError(try checkpoint.readInts("scalar")) { error in
            guard case .wrongType? = error as? ModelFileError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try checkpoint.readFloats("nope")) { error in
            XCTAssertEqual(error as? ModelFileError, .missingTensor(file: path, name: "nope"))
        }
        var small = [Float](repeating: 0, count: 3)
        XCTAssertThrowsError(
            try small.withUnsafeMutableBufferPointer { (buffer) throws(ModelFileError) in
                try checkpoint.readFloats("conv.bias", into: buffer)
            }
        ) { error in
            guard case .shapeMismatch? = error as? ModelFileError else { return XCTFail("\(error)") }
        }
        // Works through the shared protocol helpers too.
        let scoped = checkpoint.scoped("conv.")
        XCTAssertEqual(scoped.names, ["bias", "weight"])
        XCTAssertEqual(try scoped.require("weight", shape: [4, 3, 3, 3]).dtype, .f32)
    }

    func testLightningCheckpoint() throws {
        let checkpoint = try TorchCheckpoint(path: TorchCheckpointFixtures.path("torch_lightning.ckpt"))
        let expected = try TorchCheckpointFixtures.expectation("torch_lightning.json")
        try assertMatches(checkpoint, expected)
        XCTAssertEqual(checkpoint.placeholders, expected.placeholders)
        XCTAssertTrue(checkpoint.topLevelKeys.contains("optimizer_states"))
        XCTAssertTrue(checkpoint.topLevelKeys.contains("hyper_parameters"))

        let chosen = try TorchCheckpoint(path: TorchCheckpointFixtures.path("torch_lightning.ckpt"), stateDictKey: "state_dict")
        XCTAssertEqual(chosen.names, checkpoint.names)
        XCTAssertThrowsError(try TorchCheckpoint(path: TorchCheckpointFixtures.path("torch_lightning.ckpt"), stateDictKey: "ema")) {
            error in
            guard case .missingTensor(_, "ema")? = error as? ModelFileError else { return XCTFail("\(error)") }
        }
    }

    func testModulePrefixedModelWithProtocol4() throws {
        let checkpoint = try TorchCheckpoint(path: TorchCheckpointFixtures.path("torch_module_prefixed.pth"))
        let expected = try TorchCheckpointFixtures.expectation("torch_module_prefixed.json")
        try assertMatches(checkpoint, expected)
        XCTAssertEqual(checkpoint.strippedPrefix, "module.")
        XCTAssertFalse(checkpoint.names.contains { $0.hasPrefix("module.") })
    }

    func testFileWithoutChecksums() throws {
        let checkpoint = try TorchCheckpoint(path: TorchCheckpointFixtures.path("torch_no_crc.pt"), verifyChecksums: true)
        try assertMatches(checkpoint, try TorchCheckpointFixtures.expectation("torch_no_crc.json"))
    }

    func testLegacyFormatIsRejectedWithAHint() {
        let path = TorchCheckpointFixtures.path("torch_legacy.pt")
        XCTAssertThrowsError(try TorchCheckpoint(path: path)) { error in
            guard case .unsupported(let file, let reason)? = error as? ModelFileError else { return XCTFail("\(error)") }
            XCTAssertEqual(file, path)
            XCTAssertTrue(reason.contains("legacy"), reason)
            XCTAssertTrue(reason.contains("save it again with a current torch"), reason)
        }
    }

    func testMaliciousPickleIsNeverExecuted() throws {
        let expected = try TorchCheckpointFixtures.expectation("torch_malicious.json")
        let markers = try XCTUnwrap(expected.markers)
        XCTAssertEqual(markers.count, 2)
        for marker in markers { try? FileManager.default.removeItem(atPath: marker) }

        let checkpoint = try TorchCheckpoint(path: TorchCheckpointFixtures.path("torch_malicious.pt"))
        try assertMatches(checkpoint, expected)
        XCTAssertEqual(checkpoint.placeholders, ["__builtin__.eval", "posix.system"])
        XCTAssertEqual(checkpoint.ignoredKeys, ["zz_eval", "zz_system"])
        for marker in markers {
            XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "\(marker) exists: the payload ran")
        }
    }

    // MARK: Files that are not right

    func testOpenErrors() throws {
        XCTAssertThrowsError(try TorchCheckpoint(path: "/nonexistent/x.pt")) { error in
            guard case .cannotOpen("/nonexistent/x.pt", _)? = error as? ModelFileError else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try TorchCheckpoint(path: TorchCheckpointFixtures.directory.path)) { error in
            XCTAssertTrue("\(error)".contains("not a regular file"), "\(error)")
        }
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("enat-torch-empty-\(getpid()).pt")
        try Data().write(to: empty)
        defer { try? FileManager.default.removeItem(at: empty) }
        XCTAssertThrowsError(try TorchCheckpoint(path: empty.path)) { error in
            XCTAssertEqual(error as? ModelFileError, .malformed(file: empty.path, reason: "file is empty"))
        }
        XCTAssertThrowsError(try TorchCheckpoint(bytes: Array("GIF89a....".utf8), sourceDescription: "pic.gif")) { error in
            XCTAssertTrue("\(error)".hasPrefix("pic.gif: malformed: not a PyTorch checkpoint"), "\(error)")
        }
        XCTAssertThrowsError(try TorchCheckpoint(bytes: [0x80, 0x02, 0x4E, 0x2E], sourceDescription: "p.pkl")) { error in
            XCTAssertTrue("\(error)".contains("bare pickle"), "\(error)")
        }
    }

    private func rebuilt(_ change: (inout [ZipTestBuilder.Record]) -> Void) throws -> [UInt8] {
        var records = try ZipTestBuilder.records(of: try TorchCheckpointFixtures.bytes("torch_plain_state_dict.pt"))
        change(&records)
        return ZipTestBuilder(records: records).build()
    }

    private func assertError(
        _ bytes: [UInt8], _ text: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        do {
            _ = try TorchCheckpoint(bytes: bytes, sourceDescription: "bad.pt")
            XCTFail("expected an error containing '\(text)'", file: file, line: line)
        } catch {
            XCTAssertTrue("\(error)".hasPrefix("bad.pt: "), "\(error)", file: file, line: line)
            XCTAssertTrue("\(error)".contains(text), "\(error)", file: file, line: line)
        }
    }

    func testRebuiltFixtureStillLoads() throws {
        let bytes = try rebuilt { _ in }
        let checkpoint = try TorchCheckpoint(bytes: bytes, sourceDescription: "rebuilt.pt", verifyChecksums: true)
        try assertMatches(checkpoint, try TorchCheckpointFixtures.expectation("torch_plain_state_dict.json"))
    }

    func testBrokenArchives() throws {
        assertError(try rebuilt { $0[$0.firstIndex { $0.name.hasSuffix("/data/3") }!].method = 8 }, "is compressed")
        assertError(try rebuilt { $0[0].method = 8 }, "is compressed")
        assertError(try rebuilt { $0.removeAll { $0.name.hasSuffix("/data/3") } }, "which is missing")
        assertError(
            try rebuilt { records in
                let i = records.firstIndex { $0.name.hasSuffix("/data/3") }!
                records[i].data.removeLast()
            }, "should hold")
        assertError(try rebuilt { $0[$0.firstIndex { $0.name.hasSuffix("/byteorder") }!].data = Array("big".utf8) }, "byte order")
        assertError(try rebuilt { $0.removeAll { $0.name.hasSuffix("/data.pkl") } }, "no '<archive>/data.pkl'")
        assertError(try rebuilt { $0.append(.init(name: "other/data.pkl", data: $0[0].data)) }, "2 '*/data.pkl' records")
        assertError(try rebuilt { $0[0].crc = 1 }, "CRC-32")
        // The archive folder's name does not matter.
        let renamed = try rebuilt { records in
            for i in records.indices {
                records[i].name = "whatever" + records[i].name.drop { $0 != "/" }
            }
        }
        let original = try TorchCheckpoint(path: TorchCheckpointFixtures.path("torch_plain_state_dict.pt"))
        XCTAssertEqual(try TorchCheckpoint(bytes: renamed, sourceDescription: "r.pt").names, original.names)
        // A flipped byte in a tensor record is caught when checksums are verified.
        let flipped = try rebuilt { records in
            let i = records.firstIndex { $0.name.hasSuffix("/data/0") }!
            records[i].crc = ZipCRC32.checksum(records[i].data)
            records[i].data[0] ^= 0xFF
        }
        XCTAssertNoThrow(try TorchCheckpoint(bytes: flipped, sourceDescription: "f.pt"))
        XCTAssertThrowsError(try TorchCheckpoint(bytes: flipped, sourceDescription: "f.pt", verifyChecksums: true))
    }

    /// A hand-built checkpoint: nested state dict, odd strides, broadcast, prefix stripping.
    func testSyntheticLayouts() throws {
        var p = PickleOps()
        p.proto()
        p.emptyDict()
        p.mark()
        p.string("epoch"); p.int(1)
        p.string("model"); p.emptyDict(); p.string("ema"); p.emptyDict()
        p.mark()
        p.string("module.enc"); p.emptyDict()
        p.string("w"); p.tensor("FloatStorage", key: "0", count: 6, offset: 0, shape: [2, 3], stride: [1, 2])
        p.setItem()
        p.string("module.b"); p.tensor("FloatStorage", key: "0", count: 6, offset: 1, shape: [3, 1], stride: [1, 1 << 62])
        p.string("module.bc"); p.tensor("FloatStorage", key: "0", count: 6, offset: 0, shape: [2, 3], stride: [0, 1])
        p.string("module.ids"); p.tensor("LongStorage", key: "1", count: 4, offset: 0, shape: [2, 2], stride: [1, 2])
        p.string("module.note"); p.string("text")
        p.string("module.u16")  // a newer dtype, rebuilt by _rebuild_tensor_v3 over an untyped storage
        p.global("torch._utils", "_rebuild_tensor_v3")
        p.mark()
        p.storage("UntypedStorage", key: "2", count: 8, module: "torch.storage")
        p.int(0); p.mark(); p.int(4); p.tuple(); p.mark(); p.int(1); p.tuple(); p.bool(false)
        p.global("collections", "OrderedDict"); p.emptyTuple(); p.reduce()
        p.global("torch", "uint16")
        p.tuple()
        p.reduce()
        p.setItems()
        p.setItem()  // model["ema"] = ...
        p.setItems()
        p.stop()
        var builder = ZipTestBuilder()
        builder.add("synthetic/data.pkl", p.bytes)
        builder.add("synthetic/data/0", [0, 1, 2, 3, 4, 5].flatMap { (v: Float) in withUnsafeBytes(of: v) { Array($0) } })
        builder.add("synthetic/data/1", [10, 20, 30, 40].flatMap { (v: Int64) in withUnsafeBytes(of: v) { Array($0) } })
        let checkpoint = try TorchCheckpoint(bytes: builder.build(), sourceDescription: "s.pt")
        XCTAssertEqual(checkpoint.stateDictPath, "model.ema")
        XCTAssertEqual(checkpoint.strippedPrefix, "module.")
        XCTAssertEqual(checkpoint.names, ["b", "bc", "enc.w", "ids"])
        XCTAssertEqual(checkpoint.ignoredKeys, ["module.note"])
        XCTAssertEqual(checkpoint.unsupportedTensors, ["u16": "torch.uint16"])
        XCTAssertThrowsError(try checkpoint.readFloats("u16")) { error in
            XCTAssertEqual(error as? ModelFileError, .wrongType(file: "s.pt", name: "u16", dtype: "torch.uint16"))
        }
        XCTAssertEqual(try checkpoint.readFloats("enc.w"), [0, 2, 4, 1, 3, 5])
        XCTAssertEqual(try checkpoint.readFloats("b"), [1, 2, 3])
        XCTAssertEqual(try checkpoint.readFloats("bc"), [0, 1, 2, 0, 1, 2])
        XCTAssertEqual(try checkpoint.readInts("ids"), [10, 30, 20, 40])
        XCTAssertEqual(try checkpoint.readFloats("ids"), [10, 30, 20, 40])

        // A pickle whose top level is one tensor, not a dict.
        var single = PickleOps()
        single.proto()
        single.tensor("FloatStorage", key: "0", count: 6, offset: 0, shape: [6], stride: [1])
        single.stop()
        builder.records[0].data = single.bytes
        assertError(builder.build(), "single tensor")
    }

    // MARK: Fuzzing

    func testEveryTruncationFailsCleanly() throws {
        let bytes = try TorchCheckpointFixtures.bytes("torch_plain_state_dict.pt")
        for length in 0..<bytes.count {
            XCTAssertThrowsError(
                try TorchCheckpoint(bytes: Array(bytes[..<length]), sourceDescription: "cut.pt"), "length \(length)"
            ) { error in
                XCTAssertTrue("\(error)".hasPrefix("cut.pt: "), "\(error)")
            }
        }
    }

    private func readEverything(_ checkpoint: TorchCheckpoint) {
        for name in checkpoint.names {
            _ = try? checkpoint.readFloats(name)
            _ = try? checkpoint.readInts(name)
        }
    }

    func testRandomByteFlipsNeverCrash() throws {
        let bytes = try TorchCheckpointFixtures.bytes("torch_plain_state_dict.pt")
        var rng = SplitMix64(seed: 2024)
        var loaded = 0
        for _ in 0..<2000 {
            var mutated = bytes
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                mutated[Int.random(in: 0..<mutated.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
            }
            if let checkpoint = try? TorchCheckpoint(bytes: mutated, sourceDescription: "flip.pt") {
                loaded += 1
                readEverything(checkpoint)
            }
        }
        // Flips in tensor data still load; flips in the pickle fail its CRC check.
        XCTAssertGreaterThan(loaded, 0)
        XCTAssertLessThan(loaded, 2000)
    }

    /// Corrupts the pickle and re-zips it with a correct CRC, so the pickle reader and the
    /// tensor checks see the damage.
    func testCorruptedPicklesWithValidChecksumsNeverCrash() throws {
        for fixture in ["torch_plain_state_dict.pt", "torch_lightning.ckpt"] {
            let records = try ZipTestBuilder.records(of: try TorchCheckpointFixtures.bytes(fixture))
            let pickleIndex = try XCTUnwrap(records.firstIndex { $0.name.hasSuffix("/data.pkl") })
            var rng = SplitMix64(seed: 7)
            var outcomes = (loaded: 0, failed: 0)
            for _ in 0..<1000 {
                var mutated = records
                for _ in 0..<Int.random(in: 1...3, using: &rng) {
                    let i = Int.random(in: 0..<mutated[pickleIndex].data.count, using: &rng)
                    mutated[pickleIndex].data[i] = UInt8.random(in: 0...255, using: &rng)
                }
                do {
                    let checkpoint = try TorchCheckpoint(
                        bytes: ZipTestBuilder(records: mutated).build(), sourceDescription: "mut.pt")
                    outcomes.loaded += 1
                    readEverything(checkpoint)
                } catch {
                    outcomes.failed += 1
                    XCTAssertTrue(error.description.hasPrefix("mut.pt: "), "\(error)")
                }
            }
            XCTAssertGreaterThan(outcomes.failed, 0, fixture)
        }
    }
}
