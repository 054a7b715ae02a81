import Imaging
import XCTest

final class CodeColorTableTests: XCTestCase {
    func testHashedColoursAreStableAndClearlyNotGrey() {
        let table = CodeColorTable.hashed(codebookSize: 1024)
        XCTAssertEqual(table, CodeColorTable.hashed(codebookSize: 1024))
        XCTAssertEqual(table.count, 1024)
        XCTAssertEqual(table[5], CodeColorTable.hashedColor(code: 5))
        for code in 0..<table.count {
            let color = table[code]
            let channels = [color.red, color.green, color.blue]
            XCTAssertGreaterThanOrEqual(Int(channels.max()!) - Int(channels.min()!), 70, "code \(code) is greyish")
        }
        XCTAssertGreaterThan(Set((0..<1024).map { table[$0] }).count, 1000, "codes should be distinguishable")
    }

    func testFloatColoursAreQuantisedLikePixels() {
        let table = CodeColorTable(rgb: [0, 0.5, 1, -1, .nan, 2])
        XCTAssertEqual(table.count, 2)
        XCTAssertEqual(table[0], RGBColor(red: 0, green: 128, blue: 255))
        XCTAssertEqual(table[1], RGBColor(red: 0, green: 0, blue: 255))
    }

    func testClosureIsAskedForEveryCodeInOrder() {
        var asked: [Int] = []
        let table = CodeColorTable(codebookSize: 3) { code in
            asked.append(code)
            return SIMD3(Float(code) / 255, 0, 1)
        }
        XCTAssertEqual(asked, [0, 1, 2])
        XCTAssertEqual(table.bytes, [0, 0, 255, 1, 0, 255, 2, 0, 255])
    }

    func testMeanColourAveragesEachPlaneIgnoringNonFinite() {
        let chw: [Float] = [0, 1, 0.5, 0.5] + [0.2, 0.2, 0.2, 0.2] + [1, 1, 1, .nan]
        let mean = CodeColorTable.meanColor(chw: chw, width: 2, height: 2)
        XCTAssertEqual(mean.x, 0.5, accuracy: 1e-6)
        XCTAssertEqual(mean.y, 0.2, accuracy: 1e-6)
        XCTAssertEqual(mean.z, 0.75, accuracy: 1e-6)
    }

    func testProjectedFeaturesKeepSimilarCodesSimilar() {
        let dimension = 8
        let base: [Float] = (0..<dimension).map { Float($0) }
        let other: [Float] = (0..<dimension).map { Float(dimension - $0) * 3 }
        let features = base + base + other + base.map { -$0 }
        let table = CodeColorTable.projecting(features: features, dimension: dimension)
        XCTAssertEqual(table.count, 4)
        XCTAssertEqual(table[0], table[1], "identical features must give identical colours")
        XCTAssertNotEqual(table[0], table[2])
        XCTAssertTrue(table.bytes.allSatisfy { $0 >= 25 && $0 <= 230 }, "colours stay inside [0.1, 0.9]")
        XCTAssertEqual(table, CodeColorTable.projecting(features: features, dimension: dimension))
        // No spread at all: mid grey rather than a division by zero.
        XCTAssertEqual(
            CodeColorTable.projecting(features: [1, 1, 1, 1], dimension: 2).bytes,
            [UInt8](repeating: 128, count: 6))
    }
}
