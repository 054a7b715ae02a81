import ENAT
import XCTest

@testable import ModelBundle

final class LoadedModelRunTests: XCTestCase {
    func testClassLabelRuns() throws {
        let model = try LoadedModel.random(configuration: TestBundles.micro, seed: 1)
        let run = try model.makeRun(condition: .classLabel(2), settings: model.defaultSettings, seed: 5)
        XCTAssertEqual(run.label, 2)
        XCTAssertEqual(run.ids.count, 16)
        XCTAssertFalse(run.isFinished)

        assertBundleError(
            try model.makeRun(condition: .classLabel(3), settings: model.defaultSettings, seed: 5),
            contains: ["model micro", "class label 3 is outside 0...2"])
        assertBundleError(
            try model.makeRun(condition: .classLabel(-1), settings: model.defaultSettings, seed: 5),
            contains: ["class label -1"])
        var bad = model.defaultSettings
        bad.steps = 0
        assertBundleError(try model.makeRun(condition: .classLabel(0), settings: bad, seed: 5), contains: ["model micro", "steps"])
    }

    func testCaptionToClassModel() throws {
        let model = try LoadedModel.random(configuration: TestBundles.micro, seed: 1)
        assertBundleError(
            try model.makeRun(condition: .caption("a red circle"), settings: model.defaultSettings, seed: 5),
            contains: ["model micro is class-conditional: send a class name or class_label"])
    }

    func testGenerateMatchesTheSampler() throws {
        let model = try LoadedModel.random(configuration: TestBundles.micro, seed: 2)
        var steps: [Int] = []
        let image = try model.generate(condition: .classLabel(1), settings: model.defaultSettings, seed: 11) { steps.append($0.step) }
        XCTAssertEqual(steps, [0, 1, 2, 3])
        let direct = try XCTUnwrap(try model.sampler.generate(label: 1, settings: model.defaultSettings, seed: 11))
        XCTAssertEqual(image.tokens, direct)
        XCTAssertEqual(image.png, try model.renderFinalPNGs([direct])[0])
    }
}
