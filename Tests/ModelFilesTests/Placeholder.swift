import XCTest
final class ModelFilesTestsPlaceholder: XCTestCase { func testNothing() {} }
