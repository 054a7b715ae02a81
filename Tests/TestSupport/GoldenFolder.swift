import Foundation
import XCTest

/// The shared golden files (reference tensors written by the official code), which the
/// repository does not hold: the folder `ENAT_GOLDEN_DIR` names, else `../shared/golden` beside
/// the checkout. A relative `ENAT_GOLDEN_DIR` is taken from the checkout's root, as `tools/test`
/// takes it. A test that needs a golden file it cannot find is skipped with a message naming the
/// folder, so a plain clone passes its tests; under `CI=true` the missing file fails the test.
public struct GoldenFolder: Sendable {
    /// The folder the files are looked up in.
    public let url: URL
    /// A missing file fails the test (`CI=true`) instead of skipping it.
    public let missingFails: Bool

    /// The checkout's root (this file is Tests/TestSupport/GoldenFolder.swift).
    public static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The folder as the environment and the checkout give it.
    public static let shared = GoldenFolder(environment: ProcessInfo.processInfo.environment)

    public init(environment: [String: String], repositoryRoot: URL = GoldenFolder.repositoryRoot) {
        let named = environment["ENAT_GOLDEN_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "../shared/golden"
        url =
            (named.hasPrefix("/") ? URL(fileURLWithPath: named) : repositoryRoot.appendingPathComponent(named))
            .standardizedFileURL
        missingFails = environment["CI"] == "true"
    }

    /// The path of golden file `name`. Throws `XCTSkip` when it is missing (a test that calls
    /// this with `try` is then reported as skipped), or `GoldenFileMissing` under `CI=true`.
    public func file(_ name: String) throws -> String {
        let path = url.appendingPathComponent(name).path
        guard FileManager.default.fileExists(atPath: path) else {
            let message = "needs golden file \(name), not found in the golden folder \(url.path) (ENAT_GOLDEN_DIR)"
            if missingFails { throw GoldenFileMissing(description: message + "; CI=true requires it") }
            throw XCTSkip(message)
        }
        return path
    }

    /// `shared.file(name)`.
    public static func file(_ name: String) throws -> String { try shared.file(name) }
}

/// A golden file a test needs is missing and `CI=true`: the test fails with this error.
public struct GoldenFileMissing: Error, CustomStringConvertible {
    public let description: String
}
