import ENAT
import XCTest

@testable import ModelBundle

final class ClassNameIndexTests: XCTestCase {
    func testImageNetNames() {
        XCTAssertEqual(ImageNetClassNames.all.count, 1000)
        let index = ClassNameIndex(names: ImageNetClassNames.all)
        for text in ["207", "golden retriever", "Golden Retriever", "  GOLDEN   retriever\t", "0207"] {
            XCTAssertEqual(index.label(for: text), 207, text)
        }
        XCTAssertEqual(index.label(for: "tench"), 0)
        XCTAssertEqual(index.label(for: "999"), 999)
        XCTAssertEqual(index.label(for: "toilet tissue"), 999)
        XCTAssertNil(index.label(for: "1000"))
        XCTAssertNil(index.label(for: "-1"))
        XCTAssertNil(index.label(for: "99999999999999999999"))
        XCTAssertNil(index.label(for: "golden"))
        XCTAssertNil(index.label(for: ""))
        // torchvision's list tells ImageNet's two cranes apart.
        XCTAssertEqual(index.label(for: "crane bird"), 134)
        XCTAssertEqual(index.label(for: "crane"), 517)
        XCTAssertEqual(Set(ImageNetClassNames.all).count, 1000, "names are unique")
        // Two names differ only in case: exact case decides, otherwise the lower label.
        XCTAssertEqual(index.label(for: "Cardigan"), 264)
        XCTAssertEqual(index.label(for: "cardigan"), 474)
        XCTAssertEqual(index.label(for: "CARDIGAN"), 264)
    }

    func testSynonyms() {
        let index = ClassNameIndex(names: ["tench, Tinca tinca", "red circle", "goldfish,Carassius auratus"])
        XCTAssertEqual(index.label(for: "tench"), 0)
        XCTAssertEqual(index.label(for: "tinca TINCA"), 0)
        XCTAssertEqual(index.label(for: "tench, Tinca tinca"), 0)
        XCTAssertEqual(index.label(for: "Red Circle"), 1)
        XCTAssertEqual(index.label(for: "carassius auratus"), 2)
        XCTAssertEqual(index.label(for: "2"), 2)
        XCTAssertNil(index.label(for: "3"))
        XCTAssertNil(index.label(for: "tinca"))
        // A name two classes share resolves to the lower label.
        XCTAssertEqual(ClassNameIndex(names: ["crane", "heron", "crane"]).label(for: "crane"), 0)
    }

    func testModelLookup() throws {
        let model = try LoadedModel.random(configuration: TestBundles.micro, seed: 1)
        XCTAssertEqual(model.classLabel(for: "Azure Square"), 1)
        XCTAssertEqual(model.classLabel(for: "2"), 2)
        XCTAssertNil(model.classLabel(for: "3"))
        XCTAssertNil(model.classLabel(for: "golden retriever"))
    }

    func testSuggestionsAreTheClosestNames() {
        let names = ["red circle", "green circle", "blue circle", "red square", "green square", "blue square"]
        let index = ClassNameIndex(names: names)
        XCTAssertEqual(index.suggestions(for: "red circel"), ["red circle"])
        XCTAssertEqual(index.suggestions(for: "Blue  Sqare"), ["blue square"])
        XCTAssertEqual(index.suggestions(for: "12"), [], "nothing close: no suggestion")
        XCTAssertEqual(index.suggestions(for: "goldfish"), [])
        XCTAssertEqual(EditDistance.between(Array("kitten"), Array("sitting")), 3)
        XCTAssertEqual(EditDistance.closest(to: "max_batch", in: ["max_batch_size", "max_queue_length", "port"]), ["max_batch_size"])
    }

    func testParametersTextFollowsA1111() throws {
        let model = try LoadedModel.random(configuration: .testTiny, seed: 0)
        let text = model.parametersText(
            condition: .classLabel(1), settings: .init(steps: 4, guidanceScale: 2, maskTemperature: 1.5, sampleTemperature: 6), seed: 7)
        let lines = text.split(separator: "\n")
        XCTAssertEqual(lines.count, 2)
        XCTAssertEqual(String(lines[0]), model.promptText(for: .classLabel(1)))
        XCTAssertEqual(
            String(lines[1]),
            "Steps: 4, Sampler: ENAT, CFG scale: 2, Seed: 7, Size: \(model.imageSize)x\(model.imageSize), Model: \(model.id), Class label: 1, Mask temperature: 1.5, Sample temperature: 6"
        )
    }
}
