import XCTest

@testable import ImageAPI

/// `quality` as sampler steps, and what the response reports.
final class ImageQualityTests: XCTestCase {
    func testTiersAreStepCounts() {
        let steps = ImageQuality.allCases.map { ($0.rawValue, $0.steps(default: 8, maxSteps: 64)) }
        XCTAssertEqual(
            steps.map { "\($0.0)=\($0.1)" },
            ["auto=8", "low=4", "medium=8", "high=16", "xhigh=24", "max=32", "standard=8", "hd=16"])
        XCTAssertEqual(ImageQuality.low.steps(default: 5, maxSteps: 64), 3, "half, rounded up")
        XCTAssertEqual(ImageQuality.low.steps(default: 1, maxSteps: 64), 1, "never below one step")
        XCTAssertEqual(ImageQuality.max.steps(default: 20, maxSteps: 64), 64, "never above the server's limit")
        XCTAssertEqual(ImageQuality.high.steps(default: 8, maxSteps: 10), 10)
    }

    func testReportedTierIsOneTheSDKKnows() {
        let known: Set<String> = ["low", "medium", "high", "xhigh", "max"]
        for quality in ImageQuality.allCases { XCTAssertTrue(known.contains(quality.reported.rawValue), quality.rawValue) }
        XCTAssertEqual(ImageQuality.auto.reported, .medium)
        XCTAssertEqual(ImageQuality.standard.reported, .medium)
        XCTAssertEqual(ImageQuality.hd.reported, .high)
        XCTAssertEqual(ImageQuality.low.reported, .low)
    }

    func testParsing() throws {
        XCTAssertEqual(try ImageQuality(parsing: nil), .auto)
        XCTAssertEqual(try ImageQuality(parsing: "hd"), .hd)
        for bad in ["ultra", "HIGH", ""] {
            XCTAssertThrowsError(try ImageQuality(parsing: bad)) { error in
                XCTAssertEqual((error as? APIError)?.param, "quality", bad)
            }
        }
    }
}
