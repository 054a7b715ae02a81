import ENAT
import Foundation
import XCTest

/// Configuration values from a file are checked with bounds far below overflow.
final class ENATConfigurationTests: XCTestCase {
    static let tiny =
        #"{"latent_size": 4, "hidden_size": 32, "num_heads": 8, "enc_depth": 1, "dec_depth": 1, "codebook_size": 200, "num_classes": 5, "mlp_ratio": 2.0}"#

    func decode(_ json: String) throws -> ENATConfiguration { try JSONDecoder().decode(ENATConfiguration.self, from: Data(json.utf8)) }

    func testTheTinyConfigurationDecodes() throws {
        XCTAssertEqual(try decode(Self.tiny).depth, 2)
    }

    /// `enc_depth + dec_depth` overflowed on `Int.max` inside the range check (issue #16).
    func testHostileValuesThrowInsteadOfTrapping() {
        let cases: [(String, String, String)] = [
            (#""enc_depth": 1"#, #""enc_depth": 9223372036854775807"#, "enc_depth"),
            (#""dec_depth": 1"#, #""dec_depth": 9223372036854775807"#, "dec_depth"),
            (#""enc_depth": 1"#, #""enc_depth": -1"#, "enc_depth"),
            (#""latent_size": 4"#, #""latent_size": 4611686018427387904"#, "latent_size"),
            (#""hidden_size": 32"#, #""hidden_size": -9223372036854775808"#, "hidden_size"),
            (#""num_heads": 8"#, #""num_heads": 0"#, "num_heads"),
            (#""codebook_size": 200"#, #""codebook_size": 4611686018427387904"#, "codebook_size"),
            (#""num_classes": 5"#, #""num_classes": -1"#, "num_classes"),
            (#""mlp_ratio": 2.0"#, #""mlp_ratio": 1e300"#, "mlp_ratio"),
        ]
        for (old, new, key) in cases {
            let json = Self.tiny.replacingOccurrences(of: old, with: new)
            XCTAssertNotEqual(json, Self.tiny)
            XCTAssertThrowsError(try decode(json), key) { error in
                XCTAssertTrue("\(error)".contains(key), "\(key): \(error)")
            }
        }
    }
}
