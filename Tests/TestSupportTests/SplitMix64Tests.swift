import TestSupport
import XCTest

final class SplitMix64Tests: XCTestCase {
    /// The reference sequence of SplitMix64 from seed 0 (Vigna's splitmix64.c), so every test
    /// that names a seed replays the same inputs everywhere.
    func testReferenceSequence() {
        var generator = SplitMix64(seed: 0)
        XCTAssertEqual((0..<3).map { _ in generator.next() }, [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F])
    }
}
