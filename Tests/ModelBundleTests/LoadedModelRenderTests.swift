import ENAT
import Imaging
import VQGAN
import XCTest

@testable import ModelBundle

final class LoadedModelRenderTests: XCTestCase {
    private func tokens(_ seed: Int, count: Int = 16, codes: Int = 64) -> [Int32] {
        (0..<count).map { Int32(($0 * 37 + seed * 11) % codes) }
    }

    func testFinalPNGsAreDeterministic() throws {
        let model = try LoadedModel.random(configuration: TestBundles.micro, seed: 3)
        let a = tokens(1), b = tokens(2)
        let together = try model.renderFinalPNGs([a, b])
        XCTAssertEqual(together.count, 2)
        XCTAssertEqual(try model.renderFinalPNGs([a, b]), together)
        // An image's bytes do not depend on what else is in the batch.
        XCTAssertEqual(try model.renderFinalPNGs([b])[0], together[1])
        XCTAssertNotEqual(together[0], together[1])
        XCTAssertEqual(pngSize(together[0])?.width, 16)
        XCTAssertEqual(pngSize(together[0])?.height, 16)
        XCTAssertEqual(try model.renderFinalPNGs([]), [])

        // A second load of the same weights renders the same bytes.
        let again = try LoadedModel.random(configuration: TestBundles.micro, seed: 3)
        XCTAssertEqual(try again.renderFinalPNGs([a, b]), together)
    }

    func testFinalPNGRejectsBadTokens() throws {
        let model = try LoadedModel.random(configuration: TestBundles.micro, seed: 3)
        assertBundleError(try model.renderFinalPNGs([tokens(1, count: 15)]), contains: ["model micro", "token map 0 holds 15 tokens", "needs 16"])
        var masked = tokens(1)
        masked[4] = 64
        assertBundleError(try model.renderFinalPNGs([masked]), contains: ["model micro", "token 4 is 64", "0..<64"])
    }

    /// The sampler's real update after the second of four steps (some tokens revealed).
    private func update(model: LoadedModel) throws -> StepUpdate {
        let run = try model.makeRun(condition: .classLabel(0), settings: model.defaultSettings, seed: 9)
        _ = try model.sampler.step([run])
        let update = try XCTUnwrap(try model.sampler.step([run]).first)
        XCTAssertTrue(update.revealed.contains(true) && update.revealed.contains(false))
        return update
    }

    func testPreviewModes() throws {
        let model = try LoadedModel.random(configuration: TestBundles.micro, seed: 3)
        let step = try update(model: model)
        XCTAssertNil(try model.renderPreviewPNG(step, mode: .none))

        let mosaic = try XCTUnwrap(try model.renderPreviewPNG(step, mode: .mosaic))
        XCTAssertEqual(pngSize(mosaic)?.width, 16)
        XCTAssertEqual(try model.renderPreviewPNG(step, mode: .mosaic), mosaic)

        let full = try XCTUnwrap(try model.renderPreviewPNG(step, mode: .full))
        XCTAssertEqual(pngSize(full)?.width, 16)
        XCTAssertEqual(try model.renderPreviewPNG(step, mode: .full), full)
        // `.full` shows the whole predicted map: the pixels of a final image of it.
        XCTAssertNotEqual(full, mosaic)
        let pixels = try model.decoder.decode(tokens: step.predicted, batch: 1, latentHeight: 4, latentWidth: 4)
        XCTAssertEqual(full, try PNGEncoder.encode(RGBImage(chw: pixels, width: 16, height: 16), compression: .fast))
    }

    func testMosaicColoursComeFromTheDecoder() throws {
        let model = try LoadedModel.random(configuration: TestBundles.micro, seed: 3)
        let colors = try CodeColors.meanDecodedColors(decoder: model.decoder, latentSize: 4, model: "micro")
        XCTAssertEqual(colors.count, 64)
        // Code 5's colour is close to the mean of a decode of a grid of mostly code 5.
        let grid = [Int32](repeating: 5, count: 16)
        let pixels = try model.decoder.decode(tokens: grid, batch: 1, latentHeight: 4, latentWidth: 4)
        let mean = CodeColorTable.meanColor(chw: pixels.map { min(max($0, 0), 1) }, width: 16, height: 16)
        let color = colors[5]
        for (channel, byte) in [color.red, color.green, color.blue].enumerated() {
            XCTAssertEqual(Float(byte) / 255, mean[channel], accuracy: 0.2, "channel \(channel)")
        }
        // Computed once: the renderer keeps it.
        try model.preparePreviews()
        XCTAssertEqual(
            try model.renderPreviewPNG(update(model: model), mode: .mosaic), try model.renderPreviewPNG(update(model: model), mode: .mosaic))
    }

    func testPreviewRejectsBadUpdates() throws {
        let model = try LoadedModel.random(configuration: TestBundles.micro, seed: 3)
        // An update from another model's sampler (256 tokens, not 16).
        let other = try LoadedModel.random(configuration: .testTiny, seed: 1)
        let run = try other.makeRun(condition: .classLabel(0), settings: SamplerSettings(steps: 2, guidanceScale: 0), seed: 1)
        let foreign = try XCTUnwrap(try other.sampler.step([run]).first)
        assertBundleError(try model.renderPreviewPNG(foreign, mode: .mosaic), contains: ["model micro", "256 tokens"])
        assertBundleError(try model.renderPreviewPNG(foreign, mode: .full), contains: ["model micro", "256 tokens"])
    }
}
