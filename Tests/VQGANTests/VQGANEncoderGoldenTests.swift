import Foundation
import ModelFiles
import TestSupport
import VQGAN
import XCTest

/// The encoder and quantizer against golden files of the PyTorch reference
/// (tools/fixtures/make_vqgan_encoder_golden.py): the committed fixture, and any encoder golden
/// file in the shared golden folder (recognised by its `weights.encoder.conv_in.weight`).
final class VQGANEncoderGoldenTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let fixture = fixtures.appendingPathComponent("vqgan_encoder_tiny.safetensors")

    /// Latents within 1e-4 absolute of the float64 reference: float32 rounding through the
    /// network stays near 1e-6 here (values about 1); 1e-4 still fails any wrong layer.
    static let latentTolerance: Float = 1e-4

    /// The golden folder's encoder files: the shared folder beside the checkout, as for the
    /// other golden files (`ENAT_GOLDEN_DIR` overrides it).
    static func sharedEncoderGoldens() -> [URL] {
        let directory = GoldenFolder.shared.url
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.sorted().filter { $0.hasSuffix(".safetensors") }.map { directory.appendingPathComponent($0) }.filter {
            (try? SafeTensorsFile(path: $0.path))?.info("weights." + VQGANEncoder.presenceKey) != nil
        }
    }

    func testCommittedFixtureParity() throws {
        let mismatches = try checkGolden(Self.fixture)
        XCTAssertEqual(mismatches, 0, "the fixture has no near ties (its smallest top-2 gap is 0.024)")
    }

    func testSharedGoldenFilesParity() throws {
        let files = Self.sharedEncoderGoldens()
        if files.isEmpty { print("no VQGAN encoder golden file in the shared golden folder") }
        for file in files { _ = try checkGolden(file) }
    }

    /// Runs one golden file: latents within tolerance, every token equal except where the
    /// reference itself is within rounding of a tie. Returns the number of such near-tie flips.
    @discardableResult
    func checkGolden(_ url: URL) throws -> Int {
        let file = try SafeTensorsFile(path: url.path)
        let configuration = try VQGANConfiguration(json: try XCTUnwrap(file.metadata["config"], "\(url.lastPathComponent): config"))
        let encoder = try VQGANEncoder(configuration: configuration, archive: file.scoped("weights."))
        let z: [Float]
        let batch: Int, height: Int, width: Int
        if let info = file.info("case.pixels") {
            XCTAssertEqual(info.shape.count, 4)
            (batch, height, width) = (info.shape[0], info.shape[1], info.shape[2])
            let values = try file.readInts("case.pixels")
            XCTAssertTrue(values.allSatisfy { (0...255).contains($0) })
            let rgb = values.map { UInt8(clamping: $0) }
            z = try encoder.latents(rgb: rgb, batch: batch, height: height, width: width)
            if file.info("case.image") != nil {
                // The float entry point on pixels / 255 gives the same bits.
                let image = try file.readFloats("case.image")
                XCTAssertEqual(try encoder.latents(image: image, batch: batch, height: height, width: width), z)
            }
        } else {
            let info = try XCTUnwrap(file.info("case.image"), "\(url.lastPathComponent): case.pixels or case.image")
            (batch, height, width) = (info.shape[0], info.shape[2], info.shape[3])
            z = try encoder.latents(image: try file.readFloats("case.image"), batch: batch, height: height, width: width)
        }
        let size = encoder.latentSize(height: height, width: width)
        let dim = configuration.zChannels, positions = size.height * size.width

        let expectedZ = try file.readFloats("expect.z")
        XCTAssertEqual(file.info("expect.z")?.shape, [batch, dim, size.height, size.width])
        var maxError: Float = 0
        for (a, b) in zip(z, expectedZ) {
            XCTAssertTrue(a.isFinite)
            maxError = max(maxError, abs(a - b))
        }
        print("\(url.lastPathComponent): encoder latents max abs error \(maxError)")
        XCTAssertLessThan(maxError, Self.latentTolerance)

        let tokens = try encoder.tokens(latents: z, batch: batch, latentHeight: size.height, latentWidth: size.width)
        XCTAssertEqual(try encoder.encode(rgbOrImageOf: file, batch: batch, height: height, width: width), tokens)
        let expectedTokens = try file.readInts("expect.tokens")
        XCTAssertEqual(tokens.count, expectedTokens.count)
        // A token may differ only where the reference's own distances to the two codes differ by
        // less than our latent error can move them: |d(z', e) - d(z, e)| <= 2|dz||z - e| + |dz|^2.
        let codebook = try file.readFloats("weights.quantize.embedding.weight")
        var flips = 0
        for i in 0..<min(tokens.count, expectedTokens.count) where Int(tokens[i]) != expectedTokens[i] {
            let b = i / positions, p = i % positions
            func distance(_ k: Int, _ latents: [Float]) -> Double {
                var sum = 0.0
                for c in 0..<dim {
                    let d = Double(latents[(b * dim + c) * positions + p]) - Double(codebook[k * dim + c])
                    sum += d * d
                }
                return sum
            }
            var delta = 0.0
            for c in 0..<dim {
                let d = Double(z[(b * dim + c) * positions + p]) - Double(expectedZ[(b * dim + c) * positions + p])
                delta += d * d
            }
            delta = delta.squareRoot()
            let ours = distance(Int(tokens[i]), expectedZ), theirs = distance(expectedTokens[i], expectedZ)
            let bound = 2 * delta * (ours.squareRoot() + theirs.squareRoot()) + 2 * delta * delta
            XCTAssertLessThanOrEqual(ours - theirs, bound, "token \(i): \(tokens[i]) instead of \(expectedTokens[i]), not a near tie")
            flips += 1
        }
        print("\(url.lastPathComponent): \(tokens.count - flips) of \(tokens.count) tokens equal, \(flips) near-tie flips")
        return flips
    }

    /// The released configuration reads exactly the encoder keys and shapes of
    /// `vqgan_jax_strongaug.ckpt` (listed in the shared golden folder's `checkpoint_keys.json`).
    func testReleasedShapesAreTheOfficialCheckpointKeys() throws {
        let url = URL(fileURLWithPath: try GoldenFolder.file("checkpoint_keys.json"))
        let data = try Data(contentsOf: url)
        let all = try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: [String: [Int]]])
        let official = try XCTUnwrap(all["vqgan_f16_1024"]).filter { $0.key.hasPrefix("encoder.") || $0.key.hasPrefix("quantize.") }
        var ours: [String: [Int]] = [:]
        for (name, shape) in VQGANEncoder.parameterShapes(.released) { ours[name] = shape }
        XCTAssertEqual(ours, official)
    }

    func testTheEncoderReadsExactlyItsParameters() throws {
        let file = try SafeTensorsFile(path: Self.fixture.path)
        let configuration = try VQGANConfiguration(json: try XCTUnwrap(file.metadata["config"]))
        let archive = file.scoped("weights.")
        let expected = Set(VQGANEncoder.parameterShapes(configuration).map(\.name))
        XCTAssertEqual(Set(archive.names), expected)
        for (name, shape) in VQGANEncoder.parameterShapes(configuration) { XCTAssertEqual(archive.info(name)?.shape, shape, name) }
        XCTAssertTrue(VQGANEncoder.isPresent(in: archive))
        XCTAssertFalse(VQGANEncoder.isPresent(in: EditedArchive(base: archive, removed: [VQGANEncoder.presenceKey])))
    }

    /// Each image goes through the network alone: the same bits alone or in a batch, with one
    /// element-wise thread or two.
    func testAnImageEncodesAlikeAloneAndInABatch() throws {
        let file = try SafeTensorsFile(path: Self.fixture.path)
        let encoder = try VQGANEncoder(
            configuration: try VQGANConfiguration(json: try XCTUnwrap(file.metadata["config"])), archive: file.scoped("weights."))
        let rgb = try file.readInts("case.pixels").map { UInt8(clamping: $0) }
        let half = rgb.count / 2
        let together = try encoder.latents(rgb: rgb, batch: 2, height: 24, width: 32)
        encoder.elementwiseThreads = 1
        let second = try encoder.latents(rgb: Array(rgb[half...]), batch: 1, height: 24, width: 32)
        XCTAssertEqual(Array(together[(together.count / 2)...]), second)
        XCTAssertEqual(try encoder.latents(rgb: [], batch: 0, height: 24, width: 32), [])
    }

    func testBadInputsGetClearErrors() throws {
        let file = try SafeTensorsFile(path: Self.fixture.path)
        let encoder = try VQGANEncoder(
            configuration: try VQGANConfiguration(json: try XCTUnwrap(file.metadata["config"])), archive: file.scoped("weights."))
        let cases: [(rgb: Int, batch: Int, height: Int, width: Int, message: String)] = [
            (24 * 30 * 3, 1, 24, 30, "multiple of the encoder's downsampling factor 4"),
            (10, 1, 24, 32, "expected 1 x 24 x 32 x 3 pixel values, found 10"),
            (0, -1, 24, 32, "must be positive"),
            (0, 1, 0, 32, "must be positive"),
            (0, 1, 1 << 20, 4, "too large"),
            (0, Int.max / 8, 24, 32, "pixel values"),
        ]
        for c in cases {
            XCTAssertThrowsError(try encoder.encode(rgb: [UInt8](repeating: 0, count: c.rgb), batch: c.batch, height: c.height, width: c.width)) {
                XCTAssertTrue("\($0)".contains(c.message), "\($0)")
            }
        }
        XCTAssertThrowsError(try encoder.latents(image: [Float](repeating: .nan, count: 3 * 24 * 32), batch: 1, height: 24, width: 32)) {
            XCTAssertTrue("\($0)".contains("finite"), "\($0)")
        }
        XCTAssertThrowsError(try encoder.tokens(latents: [1, 2, 3], batch: 1, latentHeight: 6, latentWidth: 8)) {
            XCTAssertTrue("\($0)".contains("latent floats"), "\($0)")
        }
    }

    func testMissingOrMisShapedEncoderKeysAreNamed() throws {
        let file = try SafeTensorsFile(path: Self.fixture.path)
        let configuration = try VQGANConfiguration(json: try XCTUnwrap(file.metadata["config"]))
        for name in ["encoder.down.2.block.0.nin_shortcut.weight", "encoder.mid.block_2.norm1.bias", "encoder.conv_out.bias"] {
            XCTAssertThrowsError(
                try VQGANEncoder(configuration: configuration, archive: EditedArchive(base: file.scoped("weights."), removed: [name]))
            ) {
                XCTAssertEqual($0 as? ModelFileError, .missingTensor(file: "edited " + file.scoped("weights.").sourceDescription, name: name))
            }
        }
        let name = "encoder.conv_out.weight"
        let reshaped = EditedArchive(base: file.scoped("weights."), reshaped: [name: [16, 64, 3, 3]])
        XCTAssertThrowsError(try VQGANEncoder(configuration: configuration, archive: reshaped)) {
            XCTAssertTrue("\($0)".contains(name), "\($0)")
        }
    }

    /// The encoder's keys load from a `torch.save` checkpoint shaped like `vqgan_jax_strongaug.ckpt`
    /// (state_dict beside hyper-parameters, decoder keys to ignore, float16 tensors) and give
    /// the golden file's latents bit for bit.
    func testLightningCheckpointLoadsTheEncoder() throws {
        let file = try SafeTensorsFile(path: Self.fixture.path)
        let configuration = try VQGANConfiguration(json: try XCTUnwrap(file.metadata["config"]))
        let checkpoint = try TorchCheckpoint(path: Self.fixtures.appendingPathComponent("vqgan_encoder_lightning.ckpt").path)
        XCTAssertTrue(VQGANEncoder.isPresent(in: checkpoint))
        let fromCheckpoint = try VQGANEncoder(configuration: configuration, archive: checkpoint)
        let fromGolden = try VQGANEncoder(configuration: configuration, archive: file.scoped("weights."))
        let rgb = try file.readInts("case.pixels").map { UInt8(clamping: $0) }
        XCTAssertEqual(
            try fromCheckpoint.latents(rgb: rgb, batch: 2, height: 24, width: 32),
            try fromGolden.latents(rgb: rgb, batch: 2, height: 24, width: 32))
        XCTAssertEqual(
            try fromCheckpoint.encode(rgb: rgb, batch: 2, height: 24, width: 32).map { Int($0) }, try file.readInts("expect.tokens"))
    }
}

extension VQGANEncoder {
    /// `encode` on a golden file's input, whichever form it has.
    fileprivate func encode(rgbOrImageOf file: SafeTensorsFile, batch: Int, height: Int, width: Int) throws -> [Int32] {
        if file.info("case.pixels") != nil {
            return try encode(rgb: try file.readInts("case.pixels").map { UInt8(clamping: $0) }, batch: batch, height: height, width: width)
        }
        let z = try latents(image: try file.readFloats("case.image"), batch: batch, height: height, width: width)
        let size = latentSize(height: height, width: width)
        return try tokens(latents: z, batch: batch, latentHeight: size.height, latentWidth: size.width)
    }
}
