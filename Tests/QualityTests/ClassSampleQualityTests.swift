import ENAT
import Foundation
import ModelBundle
import Tensors
import XCTest

/// The demo class model makes what it is asked for: of 200 samples (fixed seeds, the bundle's
/// default sampler settings) the quality classifier, trained on real images of the generator
/// (held-out accuracy in Models/quality-classifier/config.json), recognises the requested class.
///
/// Issue 5 asks for at least 90%; the committed bundle reaches 91% (182/200, the same with the
/// AVX-512 and the Haswell OpenBLAS kernels). The seeds are fixed, so the figure only moves when
/// the model or the engine's arithmetic does. The bf16 engine must reach the same goal.
final class ClassSampleQualityTests: XCTestCase {
    static let required = 0.9

    func testClassSamplesAreRecognised() throws {
        try check(precision: .fp32)
    }

    func testClassSamplesAreRecognisedInBF16() throws {
        try XCTSkipIf(BF16Kernel.best == nil, "this CPU has no bf16 kernel (needs AVX2 + FMA)")
        try check(precision: .bf16)
    }

    func check(precision: ComputePrecision) throws {
        let bundle = DemoSampling.bundle("demo-shapes")
        let model = try LoadedModel.load(path: bundle.path, precision: precision)
        XCTAssertEqual(model.precision, precision)
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
        print(
            "demo-shapes (\(precision)): \(recognised)/\(count) class samples recognised (\(fraction); required \(Self.required)); "
                + "per class \(perClass)")
        XCTAssertGreaterThanOrEqual(fraction, Self.required)
        // A model that ignored some classes could still pass on the others.
        for (label, hits) in perClass.enumerated() {
            XCTAssertGreaterThan(hits, 0, "no sample of class \(model.classNames[label]) is recognised")
        }
    }
}
