import ENAT
import GoldenCheck
import ModelFiles
import TestSupport
import XCTest

/// Parity with the official implementation on the shared golden files.
final class GoldenParityTests: XCTestCase {
    func testForwardFullPrevAndReuseMatchOfficialLogitsAndFeatures() throws {
        let report = try GoldenCheck.run(path: GoldenFolder.file("enat_tiny.safetensors"))
        print(report.text)
        XCTAssertEqual(report.lines.count, 6)
        for line in report.lines { XCTAssertLessThanOrEqual(line.error, 1e-4, line.name) }
    }

    func testTrajectoryLogitsAndRemaskingMatchEveryStep() throws {
        let report = try GoldenCheck.run(path: GoldenFolder.file("enat_tiny_trajectory.safetensors"))
        print(report.text)
        XCTAssertEqual(report.lines.count, 8 * 5)
        for line in report.lines { XCTAssertTrue(line.passed, "\(line.name): \(line.error)") }
    }
}
