import ENAT
import Foundation
import ModelBundle
import XCTest

/// The demo class model makes what it is asked for: of 200 samples (fixed seeds, the bundle's
/// default sampler settings) the quality classifier, trained on real images of the generator
/// (held-out accuracy in Models/quality-classifier/config.json), recognises at least 90% as the
/// requested class.
final class ClassSampleQualityTests: XCTestCase {
    func testClassSamplesAreRecognised() throws {
        let bundle = DemoSampling.bundle("demo-shapes")
        let model = try LoadedModel.load(path: bundle.path)
        let classifier = try QualityClassifier(folder: DemoSampling.bundle("quality-classifier"))
        XCTAssertEqual(model.classNames.count, 12)
        let count = 200
        let labels = (0..<count).map { $0 % model.classNames.count }
        let maps = try DemoSampling.tokens(
            model: model, conditions: labels.map { .classLabel($0) }, seeds: (0..<count).map { 1000 + UInt64($0) })
        let predictions = classifier.predict(decoded: try DemoSampling.decode(maps, model: model, bundle: bundle), count: count)
        var recognised = 0
        var perClass = [Int](repeating: 0, count: model.classNames.count)
        for (label, prediction) in zip(labels, predictions) where prediction.classLabel == label {
            recognised += 1
            perClass[label] += 1
        }
        let fraction = Double(recognised) / Double(count)
        print("demo-shapes: \(recognised)/\(count) class samples recognised (\(fraction)); per class \(perClass)")
        XCTAssertGreaterThanOrEqual(fraction, 0.9)
        // Each class on its own, so that a model that ignores some classes cannot pass on the others.
        for (label, hits) in perClass.enumerated() {
            let total = labels.filter { $0 == label }.count
            XCTAssertGreaterThanOrEqual(Double(hits) / Double(total), 0.6, "class \(model.classNames[label])")
        }
    }
}
