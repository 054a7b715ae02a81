import ENAT
import Foundation
import ModelBundle
import Tensors
import XCTest

/// The demo caption model draws what its caption names: for 60 captions over the attribute
/// combinations ("a large red circle in the top left"), the quality classifier finds every
/// named attribute (shape, colour, size, position) in the sample.
///
/// Issue 5 asks for at least 80%; the committed bundle matches all 60 (every attribute of every
/// caption). The bf16 engine (its text tower too) must reach the same goal.
final class CaptionSampleQualityTests: XCTestCase {
    static let required = 0.8

    func testCaptionSamplesMatchTheirAttributes() throws {
        try check(precision: .fp32)
    }

    func testCaptionSamplesMatchTheirAttributesInBF16() throws {
        try XCTSkipIf(BF16Kernel.best == nil, "this CPU has no bf16 kernel (needs AVX2 + FMA)")
        try check(precision: .bf16)
    }

    func check(precision: ComputePrecision) throws {
        let bundle = DemoSampling.bundle("demo-captions")
        let model = try LoadedModel.load(path: bundle.path, precision: precision)
        XCTAssertEqual(model.precision, precision)
        let classifier = try QualityClassifier(folder: DemoSampling.bundle("quality-classifier"))
        // Every 4th of the 120 combinations, in a fixed spread order (17 is coprime with 120).
        let cases: [QualityClassifier.Prediction] = (0..<60).map { index in
            let combo = (index * 2 * 17 + index % 2) % 120
            return QualityClassifier.Prediction(shape: combo / 30, colour: combo / 10 % 3, size: combo / 5 % 2, position: combo % 5)
        }
        let captions = cases.map { c in
            let position = QualityClassifier.positions[c.position]
            let place = position == "center" ? "in the center" : "in the \(position)"
            return "a \(QualityClassifier.sizes[c.size]) \(QualityClassifier.colours[c.colour]) \(QualityClassifier.shapes[c.shape]) \(place)"
        }
        let maps = try DemoSampling.tokens(
            model: model, conditions: captions.map { .caption($0) }, seeds: (0..<cases.count).map { 5000 + UInt64($0) })
        let predictions = classifier.predict(decoded: try DemoSampling.decode(maps, model: model, bundle: bundle), count: cases.count)
        var matched = 0
        var attributeHits = [0, 0, 0, 0]
        for (want, got) in zip(cases, predictions) {
            let hits = [want.shape == got.shape, want.colour == got.colour, want.size == got.size, want.position == got.position]
            for (index, hit) in hits.enumerated() where hit { attributeHits[index] += 1 }
            if !hits.contains(false) { matched += 1 }
        }
        let fraction = Double(matched) / Double(cases.count)
        print(
            "demo-captions (\(precision)): \(matched)/\(cases.count) samples match every attribute (\(fraction); required "
                + "\(Self.required)); per attribute (shape, colour, size, position) \(attributeHits)")
        XCTAssertGreaterThanOrEqual(fraction, Self.required)
    }
}
