import XCTest

@testable import HTTPServer

final class RequestTargetTests: XCTestCase {
    private func parse(_ target: String, method: HTTPMethod = .get) -> RequestTarget.Parsed? {
        RequestTarget.parse(Array(target.utf8), method: method)
    }

    func testPathAndQueryDecoding() {
        let parsed = parse("/a%20b/%E2%9C%93?x=1&y=a+b%2Bc&flag&empty=&=v&&z=%3D")
        XCTAssertEqual(parsed?.path, "/a b/✓")
        XCTAssertEqual(
            parsed?.queryItems,
            [
                QueryItem(name: "x", value: "1"), QueryItem(name: "y", value: "a b+c"), QueryItem(name: "flag", value: nil),
                QueryItem(name: "empty", value: ""), QueryItem(name: "", value: "v"), QueryItem(name: "z", value: "="),
            ])
    }

    func testPlusIsLiteralInPath() {
        XCTAssertEqual(parse("/a+b")?.path, "/a+b")
    }

    func testAbsoluteForm() {
        XCTAssertEqual(parse("http://h:8080/p?q=1")?.path, "/p")
        XCTAssertEqual(parse("http://h:8080/p?q=1")?.queryItems, [QueryItem(name: "q", value: "1")])
        XCTAssertEqual(parse("https://h")?.path, "/")
        XCTAssertNil(parse("ftp://h/p"))
    }

    func testRejects() {
        XCTAssertNil(parse(""))
        XCTAssertNil(parse("relative"))
        XCTAssertNil(parse("/a%2"))
        XCTAssertNil(parse("/a%g1"))
        XCTAssertNil(parse("/?q=%"))
        XCTAssertNil(parse("/%C3%28"), "invalid UTF-8")
        XCTAssertNil(parse("/a\u{7f}"))
        XCTAssertNil(parse("*"))
        XCTAssertEqual(parse("*", method: .options)?.path, "*")
    }
}
