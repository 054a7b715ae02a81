import Benchmarks
import XCTest

/// Checks that the benchmark runs and reports sane fields; deliberately asserts nothing about
/// time, which depends on the machine.
final class MosaicBenchmarkTests: XCTestCase {
    func testBenchmarkRunsAndReports() throws {
        let result = try MosaicBenchmark.run(outputSize: 32, gridSide: 4, codebookSize: 8, frames: 3)
        XCTAssertEqual(result.frames, 3)
        XCTAssertGreaterThan(result.meanBytes, 0)
        XCTAssertGreaterThanOrEqual(result.renderMilliseconds, 0)
        XCTAssertGreaterThanOrEqual(result.encodeMilliseconds, 0)
        XCTAssertTrue(result.description.contains("ms/frame"))
    }
}
