import Foundation
import ServerSettings
import XCTest

/// The declarations in `Setting` are the one source of every setting's key, variable, flag,
/// default and values: the README's table must say the same.
final class SettingTableTests: XCTestCase {
    private static let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("README.md")

    /// The table of `### Configuration`: its lines from the header row to the first line that is not a row.
    private func readmeTable() throws -> [String] {
        let lines = try String(contentsOf: Self.readme, encoding: .utf8).components(separatedBy: "\n")
        let section = try XCTUnwrap(lines.firstIndex(of: "### Configuration"), "README.md has a '### Configuration' section")
        let start = try XCTUnwrap(lines[section...].firstIndex { $0.hasPrefix("| key |") }, "the section has a table")
        return Array(lines[start...].prefix { $0.hasPrefix("|") })
    }

    func testReadmeTableEqualsTheDeclarations() throws {
        let expected = Setting.markdownTable.components(separatedBy: "\n")
        let found = try readmeTable()
        for (index, line) in expected.enumerated() where index >= found.count || found[index] != line {
            XCTFail(
                "README.md row \(index + 1) differs from the declarations:\n  README: \(index < found.count ? found[index] : "(missing)")\n  wanted: \(line)"
            )
        }
        XCTAssertEqual(found.count, expected.count, "README.md's table has \(found.count) rows, the declarations \(expected.count)")
        if found != expected {
            print("The table the declarations give (paste it into README.md):\n" + Setting.markdownTable)
        }
    }

    func testTableHasARowPerSettingAndTheConfigFile() {
        let rows = Setting.markdownTable.components(separatedBy: "\n").dropFirst(2)
        XCTAssertEqual(rows.count, Setting.all.count + 1)
        for (row, setting) in zip(rows, Setting.all) {
            XCTAssertTrue(row.hasPrefix("| \(setting.key) | \(setting.environmentName)"), row)
            XCTAssertTrue(row.contains("--\(setting.flag)"), row)
        }
    }
}
