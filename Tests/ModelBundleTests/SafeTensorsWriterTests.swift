import Foundation
import ModelFiles
import XCTest

@testable import ModelBundle

final class SafeTensorsWriterTests: XCTestCase {
    func testRoundTrip() throws {
        let folder = try TestBundles.temporaryFolder(self)
        let path = folder.appendingPathComponent("t.safetensors").path
        var writer = SafeTensorsWriter(path: path, metadata: ["format": "pt", "note": "a \"quoted\" value"])
        writer.add("b.weight", shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        writer.add("a.bias", shape: [1], values: [-0.5])
        writer.add("empty", shape: [0, 4], values: [])
        try writer.write()

        let file = try SafeTensorsFile(path: path)
        XCTAssertEqual(file.names, ["a.bias", "b.weight", "empty"])
        XCTAssertEqual(file.metadata, ["format": "pt", "note": "a \"quoted\" value"])
        XCTAssertEqual(file.info("b.weight"), TensorInfo(dtype: .f32, shape: [2, 3]))
        XCTAssertEqual(try file.readFloats("b.weight"), [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try file.readFloats("a.bias"), [-0.5])
        XCTAssertEqual(file.info("empty")?.shape, [0, 4])

        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let headerLength = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        XCTAssertEqual(headerLength % 8, 0, "data starts 8-byte aligned")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".partial"))

        // Same tensors, same bytes.
        try writer.write()
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), bytes)
    }

    func testCopyConvertsAndReshapes() throws {
        let folder = try TestBundles.temporaryFolder(self)
        let source = RandomArchive(shapes: [("x", [1, 1, 6]), ("y", [4])], seed: 5)
        let path = folder.appendingPathComponent("c.safetensors").path
        var writer = SafeTensorsWriter(path: path)
        try writer.add(copying: "x", from: source, shape: [6])
        try writer.add(copying: "y", from: source, as: "renamed.y")
        XCTAssertThrowsError(try writer.add(copying: "x", from: source, shape: [5]))
        assertBundleError(try writer.add(copying: "missing", from: source), contains: ["missing tensor 'missing'"])
        try writer.write()
        let file = try SafeTensorsFile(path: path)
        XCTAssertEqual(file.info("x")?.shape, [6])
        XCTAssertEqual(try file.readFloats("x"), try source.readFloats("x"))
        XCTAssertEqual(try file.readFloats("renamed.y"), try source.readFloats("y"))
    }

    func testFailedFillLeavesNoFile() throws {
        let folder = try TestBundles.temporaryFolder(self)
        let path = folder.appendingPathComponent("f.safetensors").path
        var writer = SafeTensorsWriter(path: path)
        writer.add("bad", shape: [2]) { _ in throw ModelFileError.malformed(file: "src", reason: "broken") }
        assertBundleError(try writer.write(), contains: ["src", "broken"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: path + ".partial"))
    }
}
