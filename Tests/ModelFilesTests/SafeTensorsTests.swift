import Foundation
import ModelFiles
import MutationCorpus
import XCTest

/// Strict validation of untrusted safetensors files: every malformed header is a clear error.
final class SafeTensorsTests: XCTestCase {
    func write(header: String, data: [UInt8] = [], lengthOverride: UInt64? = nil) throws -> String {
        var bytes: [UInt8] = []
        let json = Array(header.utf8)
        var length = (lengthOverride ?? UInt64(json.count)).littleEndian
        withUnsafeBytes(of: &length) { bytes += $0 }
        bytes += json + data
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("st-\(UUID().uuidString).safetensors").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func testReadsTensorsOfEveryDType() throws {
        let floats: [Float] = [1.5, -2]
        var data: [UInt8] = floats.withUnsafeBytes { Array($0) }
        data += [0x00, 0x3C]  // F16 1.0
        data += [0x80, 0x3F]  // BF16 1.0
        data += withUnsafeBytes(of: Int64(-7).littleEndian) { Array($0) }
        let path = try write(
            header:
                #"{"__metadata__":{"config":"{}"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"h":{"dtype":"F16","shape":[1],"data_offsets":[8,10]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[10,12]},"i":{"dtype":"I64","shape":[],"data_offsets":[12,20]}}"#,
            data: data)
        let file = try SafeTensorsFile(path: path)
        XCTAssertEqual(file.names, ["a", "b", "h", "i"])
        XCTAssertEqual(file.metadata["config"], "{}")
        XCTAssertEqual(try file.readFloats("a"), floats)
        XCTAssertEqual(try file.readFloats("h"), [1])
        XCTAssertEqual(try file.readFloats("b"), [1])
        XCTAssertEqual(try file.readInts("i"), [-7])
    }

    func testMalformedFilesAreRejectedWithTheProblemNamed() throws {
        let cases: [(String, [UInt8], UInt64?, String)] = [
            ("{}", [], 1 << 40, "exceeds the limit"),
            ("{}", [], 500, "does not fit"),
            ("[1,2]", [], nil, "not a JSON object"),
            ("{not json", [], nil, "not valid JSON"),
            (#"{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}"#, Array(repeating: 0, count: 8), nil, "dtype F64"),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, Array(repeating: 0, count: 4), nil, "needs 8"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}}"#, Array(repeating: 0, count: 4), nil, "beyond the data section"),
            (#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, Array(repeating: 0, count: 4), nil, "no valid shape"),
            (#"{"a":{"dtype":"F32","shape":[true],"data_offsets":[0,4]}}"#, Array(repeating: 0, count: 4), nil, "no valid shape"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, Array(repeating: 0, count: 4), nil, "data_offsets"),
            (
                #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#,
                Array(repeating: 0, count: 8), nil, "overlap"
            ),
            (#"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}}"#, Array(repeating: 0, count: 4), nil, "no valid shape"),
            (#"{"a":{"dtype":"F32","shape":[4000000000000,4000000000000],"data_offsets":[0,4]}}"#, Array(repeating: 0, count: 4), nil, "too large"),
            (#"{"__metadata__":{"k":1}}"#, [], nil, "not a string"),
        ]
        for (header, data, length, expected) in cases {
            let path = try write(header: header, data: data, lengthOverride: length)
            XCTAssertThrowsError(try SafeTensorsFile(path: path), header) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains(expected), "\(header): \(text)")
                XCTAssertTrue(text.contains(path), "the error names the file")
            }
        }
        XCTAssertThrowsError(try SafeTensorsFile(path: "/nonexistent/file.safetensors"))
        let short = try write(header: "", lengthOverride: nil)
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: short))
        XCTAssertThrowsError(try SafeTensorsFile(path: short))
    }

    func testEveryTruncationOfAValidFileFailsCleanly() throws {
        let data: [UInt8] = [Float(1), 2, 3].withUnsafeBytes { Array($0) }
        let path = try write(header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,12]}}"#, data: data)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        for length in 0..<bytes.count {
            try bytes.prefix(length).write(to: URL(fileURLWithPath: path))
            XCTAssertThrowsError(try SafeTensorsFile(path: path), "length \(length)")
        }
    }

    /// Issue #16's corpus at the reader: every mutant of the committed golden fixtures opens
    /// cleanly or fails with the file named, and every tensor of one that opens reads cleanly.
    func testMutatedFixturesOpenOrFailCleanly() throws {
        let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("st-mutant-\(UUID().uuidString).safetensors").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        for (seed, fixture) in [
            (UInt64(21), "GoldenCheckTests/Fixtures/enat_lat4_d32_h8_e1d1_trajectory.safetensors"),
            (22, "GoldenCheckTests/Fixtures/vqgan_ch32_mult122_z8.safetensors"), (23, "ENATTests/Fixtures/caption_enat_tiny.safetensors"),
        ] {
            let mutants = SafeTensorsMutations.mutants(of: Array(try Data(contentsOf: tests.appendingPathComponent(fixture))), seed: seed)
            var refused = 0
            for mutant in mutants {
                try Data(mutant.bytes).write(to: URL(fileURLWithPath: path))
                do {
                    let file = try SafeTensorsFile(path: path)
                    // Every tensor as floats; the integer ones (ids) as ints too.
                    for name in file.names {
                        _ = try? file.readFloats(name)
                        if file.info(name)?.dtype.isFloatingPoint == false { _ = try? file.readInts(name) }
                    }
                } catch {
                    XCTAssertTrue(error.description.hasPrefix(path), "\(mutant.name): \(error)")
                    refused += 1
                }
            }
            XCTAssertGreaterThan(refused, 20, fixture)
        }
    }
}
