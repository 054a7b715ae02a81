import ENAT
import XCTest

final class SamplerLimitsTests: XCTestCase {
    private let limits = SamplerLimits.engine
    private let good = SamplerSettings(steps: 8, guidanceScale: 2.5, maskTemperature: 1.5, sampleTemperature: 6)

    private func error(_ settings: SamplerSettings, _ condition: SamplerCondition? = nil) -> SamplerSettingError? {
        do {
            try limits.validate(settings, condition: condition)
            return nil
        } catch {
            return error
        }
    }

    private func with(_ change: (inout SamplerSettings) -> Void) -> SamplerSettings {
        var settings = good
        change(&settings)
        return settings
    }

    /// The published limits (README, the demo page's inputs): changing one is a visible change.
    func testTheEngineLimits() {
        XCTAssertEqual(limits.steps, 1...64)
        XCTAssertEqual(limits.guidanceScale, 0...50)
        XCTAssertEqual(limits.maskTemperature, 0...100)
        XCTAssertEqual(limits.sampleTemperature, 0...100)
        XCTAssertEqual(limits.captionScalars, 1000)
        XCTAssertNil(error(good))
        XCTAssertNil(error(.imageNet256))
        XCTAssertNil(error(.imageNet512))
    }

    func testEachSettingFailsWithItsOwnCase() {
        XCTAssertEqual(error(with { $0.steps = 0 }), .steps(0, allowed: 1...64))
        XCTAssertEqual(error(with { $0.steps = 65 }), .steps(65, allowed: 1...64))
        XCTAssertNil(error(with { $0.steps = 64 }))
        XCTAssertEqual(error(with { $0.guidanceScale = 50.5 }), .guidanceScale(50.5, allowed: 0...50))
        XCTAssertNil(error(with { $0.guidanceScale = 0 }))
        XCTAssertEqual(error(with { $0.maskTemperature = -0.1 }), .maskTemperature(-0.1, allowed: 0...100))
        XCTAssertEqual(error(with { $0.sampleTemperature = 100.5 }), .sampleTemperature(100.5, allowed: 0...100))
        XCTAssertNil(error(with { $0.sampleTemperature = 100 }))
        XCTAssertEqual(error(good, .classLabel(3, classCount: 3)), .classLabel(3, allowed: 0..<3))
        XCTAssertEqual(error(good, .classLabel(-1, classCount: 3)), .classLabel(-1, allowed: 0..<3))
        XCTAssertEqual(error(good, .classLabel(0, classCount: 0)), .classLabel(0, allowed: 0..<0))
        XCTAssertNil(error(good, .classLabel(2, classCount: 3)))
        XCTAssertEqual(error(good, .caption(" \t\n")), .captionEmpty)
        XCTAssertNil(error(good, .caption("a red circle")))
    }

    func testNonFiniteNumbersAreRefused() {
        for value in [Double.nan, .infinity, -.infinity] {
            XCTAssertEqual(error(with { $0.guidanceScale = value })?.setting, .guidanceScale)
            XCTAssertEqual(error(with { $0.maskTemperature = value })?.setting, .maskTemperature)
            XCTAssertEqual(error(with { $0.sampleTemperature = value })?.setting, .sampleTemperature)
        }
    }

    /// The caption counts Unicode scalars: not characters (fewer) and not UTF-8 bytes (more).
    func testCaptionLengthIsCountedInUnicodeScalars() {
        let accent = "e\u{301}"  // one character, two scalars, three bytes
        let longest = String(repeating: accent, count: 500)
        XCTAssertEqual(longest.count, 500)
        XCTAssertEqual(longest.utf8.count, 1500)
        XCTAssertNil(error(good, .caption(longest)))
        XCTAssertEqual(error(good, .caption(longest + "a")), .captionLength(1001, limit: 1000))
        XCTAssertNil(error(good, .caption(String(repeating: "\u{1F600}", count: 1000))), "1000 scalars of 4 bytes")
    }

    /// Settings and the condition in one call: the condition is reported first.
    func testTheConditionIsCheckedFirst() {
        XCTAssertEqual(error(with { $0.steps = 0 }, .classLabel(9, classCount: 3))?.setting, .classLabel)
    }

    func testNarrowingNeverWidens() {
        XCTAssertEqual(limits.narrowed(maxSteps: 16).steps, 1...16)
        XCTAssertEqual(limits.narrowed(maxSteps: 1000).steps, 1...64)
        XCTAssertEqual(limits.narrowed(maxSteps: 0).steps, 1...1)
        XCTAssertEqual(limits.narrowed(maxSteps: 16).guidanceScale, limits.guidanceScale)
    }

    func testMessagesSayWhatIsAllowed() {
        XCTAssertEqual(SamplerSettingError.steps(65, allowed: 1...64).description, "steps must be 1...64, got 65")
        XCTAssertEqual(
            SamplerSettingError.guidanceScale(51, allowed: 0...50).description, "guidance scale must be a finite number in 0...50, got 51")
        XCTAssertEqual(SamplerSettingError.classLabel(3, allowed: 0..<3).description, "class label 3 is outside 0...2")
        XCTAssertEqual(
            SamplerSettingError.captionLength(1001, limit: 1000).requirement, "must be at most 1000 characters (Unicode scalars), got 1001")
    }
}
