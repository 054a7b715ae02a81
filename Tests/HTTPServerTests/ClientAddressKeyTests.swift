import XCTest

@testable import HTTPServer

final class ClientAddressKeyTests: XCTestCase {
    func testIPv4CountsByAddress() {
        XCTAssertEqual(ClientAddressKey.of(host: "127.0.0.2"), "127.0.0.2")
        XCTAssertEqual(ClientAddressKey.of(host: "::ffff:10.1.2.3"), "10.1.2.3", "IPv4-mapped counts as its IPv4 address")
    }

    func testIPv6CountsByItsSlash64() {
        let first = ClientAddressKey.of(host: "2001:db8:1:2:aaaa:bbbb:cccc:dddd")
        XCTAssertEqual(first, "2001:db8:1:2::/64")
        XCTAssertEqual(ClientAddressKey.of(host: "2001:db8:1:2::1"), first, "same /64, same client")
        XCTAssertNotEqual(ClientAddressKey.of(host: "2001:db8:1:3::1"), first)
        XCTAssertEqual(ClientAddressKey.of(host: "::1"), "::/64")
    }

    func testAnythingElsePassesThrough() {
        XCTAssertEqual(ClientAddressKey.of(host: "unknown"), "unknown")
    }
}
