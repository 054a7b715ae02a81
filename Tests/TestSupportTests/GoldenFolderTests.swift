import Foundation
import TestSupport
import XCTest

/// The golden-folder lookup every parity test goes through: where it looks, and that a missing
/// file skips the test, except under `CI=true`, where it fails it.
final class GoldenFolderTests: XCTestCase {
    func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("enat-golden-folder-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func testDefaultIsSharedGoldenBesideTheCheckout() {
        let root = URL(fileURLWithPath: "/work/checkout")
        XCTAssertEqual(GoldenFolder(environment: [:], repositoryRoot: root).url.path, "/work/shared/golden")
        XCTAssertEqual(GoldenFolder(environment: ["ENAT_GOLDEN_DIR": ""], repositoryRoot: root).url.path, "/work/shared/golden")
    }

    func testEnvironmentNamesTheFolderRelativeToTheCheckout() {
        let root = URL(fileURLWithPath: "/work/checkout")
        XCTAssertEqual(GoldenFolder(environment: ["ENAT_GOLDEN_DIR": "/data/golden"], repositoryRoot: root).url.path, "/data/golden")
        XCTAssertEqual(
            GoldenFolder(environment: ["ENAT_GOLDEN_DIR": "fixtures/golden"], repositoryRoot: root).url.path, "/work/checkout/fixtures/golden")
    }

    func testPresentFileIsFound() throws {
        let folder = try temporaryFolder()
        try Data("x".utf8).write(to: folder.appendingPathComponent("enat_tiny.safetensors"))
        let golden = GoldenFolder(environment: ["ENAT_GOLDEN_DIR": folder.path, "CI": "true"])
        XCTAssertEqual(try golden.file("enat_tiny.safetensors"), folder.appendingPathComponent("enat_tiny.safetensors").path)
    }

    func testMissingFileSkipsNamingTheFolder() throws {
        let folder = try temporaryFolder()
        for environment in [["ENAT_GOLDEN_DIR": folder.path], ["ENAT_GOLDEN_DIR": folder.path, "CI": "false"]] {
            XCTAssertThrowsError(try GoldenFolder(environment: environment).file("enat_tiny.safetensors")) { error in
                XCTAssertTrue(error is XCTSkip, "\(error)")
                XCTAssertTrue("\(error)".contains(folder.path), "\(error)")
                XCTAssertTrue("\(error)".contains("enat_tiny.safetensors"), "\(error)")
            }
        }
    }

    func testMissingFileFailsUnderCI() throws {
        let folder = try temporaryFolder().appendingPathComponent("absent")
        XCTAssertThrowsError(try GoldenFolder(environment: ["ENAT_GOLDEN_DIR": folder.path, "CI": "true"]).file("vqgan_tiny.safetensors")) { error in
            XCTAssertFalse(error is XCTSkip, "CI=true must fail, not skip")
            XCTAssertTrue(error is GoldenFileMissing, "\(error)")
            XCTAssertTrue("\(error)".contains(folder.path), "\(error)")
        }
    }
}
