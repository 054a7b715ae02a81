import XCTest
final class ENATTestsPlaceholder: XCTestCase { func testNothing() {} }
