import Foundation

/// `../shared/golden/` beside the project root, as CI lays it out.
enum GoldenPaths {
    static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("shared/golden")

    static func file(_ name: String) -> String { directory.appendingPathComponent(name).path }
}
