import Foundation
import GoldenCheck
import MutationCorpus
import XCTest

/// The cases of issue #16 that trapped `enat golden` (SIGILL) or read past a buffer, one by
/// one: each must now end in an error that names the file and the tensor or key.
final class HostileGoldenTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let forward = "enat_lat4_d32_h8_e1d1.safetensors"
    static let trajectory = "enat_lat4_d32_h8_e1d1_trajectory.safetensors"
    static let vqgan = "vqgan_ch32_mult122_z8.safetensors"

    /// Runs `GoldenCheck` on `fixture` changed by `change`, beside an intact copy of the
    /// forward file (the trajectory's weights), and returns the error it threw.
    func error(of fixture: String, _ change: (inout SafeTensorsImage) -> Void) throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("enat-hostile-golden-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.copyItem(
            at: Self.fixtures.appendingPathComponent(Self.forward), to: folder.appendingPathComponent(Self.forward))
        var image = try XCTUnwrap(SafeTensorsImage(Array(Data(contentsOf: Self.fixtures.appendingPathComponent(fixture)))))
        change(&image)
        let path = folder.appendingPathComponent(fixture).path
        try Data(image.encoded()).write(to: URL(fileURLWithPath: path))
        do {
            let report = try GoldenCheck.run(path: path)
            XCTFail("expected an error, got a report:\n\(report.text)")
            return ""
        } catch {
            return "\(error)"
        }
    }

    func tensor(_ image: inout SafeTensorsImage, _ name: String, _ change: (inout SafeTensorsImage.Tensor) -> Void) {
        guard let index = image.index(of: name) else { return XCTFail("no tensor \(name)") }
        change(&image.tensors[index])
    }

    /// Rewrites an integer tensor as I64 with `value` in element 0.
    func widened(_ name: String, to value: Int64) -> (inout SafeTensorsImage) -> Void {
        { image in
            self.tensor(&image, name) { t in
                var values = stride(from: 0, to: t.data.count, by: 4).map {
                    Int64(
                        Int32(
                            bitPattern: UInt32(t.data[$0]) | UInt32(t.data[$0 + 1]) << 8 | UInt32(t.data[$0 + 2]) << 16 | UInt32(t.data[$0 + 3]) << 24
                        ))
                }
                values[0] = value
                t.dtype = "I64"
                t.data = values.flatMap { v in (0..<8).map { UInt8(truncatingIfNeeded: UInt64(bitPattern: v) >> (8 * $0)) } }
            }
        }
    }

    /// Drops the last element of a tensor, shape and bytes alike (a consistent but short file).
    func shortened(_ name: String) -> (inout SafeTensorsImage) -> Void {
        { image in
            self.tensor(&image, name) { t in
                let count = t.shape.reduce(1, *) - 1
                t.shape = [count]
                t.data = Array(t.data.prefix(count * 4))
            }
        }
    }

    func testIDsPastInt32AreRefused() throws {
        XCTAssertTrue(try error(of: Self.forward, widened("case.ids", to: 1 << 40)).contains("case.ids[0] is 1099511627776, outside Int32"))
        XCTAssertTrue(try error(of: Self.forward, widened("case.ids_prev", to: -(1 << 40))).contains("case.ids_prev[0]"))
        XCTAssertTrue(try error(of: Self.trajectory, widened("step0.ids_in", to: Int64.max)).contains("step0.ids_in[0]"))
    }

    func testShortTensorsAreRefusedBeforeTheyAreRead() throws {
        let features = try error(of: Self.forward, shortened("expect.prev.feat"))
        XCTAssertTrue(features.contains("expect.prev.feat has 511 values, expected 512"), features)
        for name in ["step0.cond_logits", "step0.uncond_logits", "step0.gumbel", "step0.sampled_ids"] {
            let message = try error(of: Self.trajectory, shortened(name))
            XCTAssertTrue(message.contains(Self.trajectory) && message.contains(name), message)
        }
    }

    func testStepCountsOutsideTheRangeAreRefused() throws {
        for steps in [-1, 0, Int.min, 1 << 40] {
            let message = try error(of: Self.trajectory) { image in
                image.metadata["sampler"] = image.metadata["sampler"]!.replacingOccurrences(of: "\"steps\": 12", with: "\"steps\": \(steps)")
            }
            XCTAssertTrue(message.contains("sampler steps \(steps) outside 1...1024"), message)
        }
    }

    func testZeroImagesOfAHugeGridAreRefused() throws {
        let message = try error(of: Self.vqgan) { image in
            self.tensor(&image, "case.tokens") {
                $0.shape = [0, 1 << 40, 1 << 40]; $0.data = []
            }
        }
        XCTAssertTrue(message.contains("token grid exceed"), message)
    }

    func testHugeChannelCountsAreRefused() throws {
        for (old, new) in [("\"ch\": 32", "\"ch\": 4611686018427387904"), ("\"ch_mult\": [1, 2, 2]", "\"ch_mult\": [1, 4611686018427387904, 2]")] {
            let message = try error(of: Self.vqgan) { image in
                image.metadata["config"] = image.metadata["config"]!.replacingOccurrences(of: old, with: new)
            }
            XCTAssertTrue(message.contains("VQGAN configuration") && message.contains("16384"), message)
        }
    }
}
