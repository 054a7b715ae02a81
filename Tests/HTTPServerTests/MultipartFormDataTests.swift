import HTTPServer
import XCTest

final class MultipartFormDataTests: XCTestCase {
    let contentType = "multipart/form-data; boundary=----enatFormBoundary7MA4YWxk"

    /// A form as browsers and the OpenAI SDK send it: text fields and a binary file.
    func form(fileBytes: [UInt8] = Array(0..<255) + [13, 10, 45, 45]) -> [UInt8] {
        var body: [UInt8] = []
        func add(_ text: String) { body += Array(text.utf8) }
        add("------enatFormBoundary7MA4YWxk\r\n")
        add("Content-Disposition: form-data; name=\"prompt\"\r\n\r\n")
        add("a tabby cat\r\n")
        add("------enatFormBoundary7MA4YWxk\r\n")
        add("Content-Disposition: form-data; name=\"image[]\"; filename=\"cat \\\"1\\\".png\"\r\n")
        add("Content-Type: image/png\r\n\r\n")
        body += fileBytes
        add("\r\n------enatFormBoundary7MA4YWxk\r\n")
        add("content-disposition: form-data; name=n\r\n\r\n")
        add("2\r\n")
        add("------enatFormBoundary7MA4YWxk--\r\n")
        return body
    }

    func testParsesFieldsAndFiles() throws {
        let file = Array(0..<255) + Array("\r\n--".utf8)
        let parts = try MultipartParser.parse(form(fileBytes: file), contentType: contentType)
        XCTAssertEqual(parts.map(\.name), ["prompt", "image[]", "n"])
        XCTAssertEqual(parts[0].text, "a tabby cat")
        XCTAssertNil(parts[0].filename)
        XCTAssertEqual(parts[1].filename, "cat \"1\".png")
        XCTAssertEqual(parts[1].contentType, "image/png")
        XCTAssertEqual(parts[1].body, file, "binary bytes, even a line break and dashes, stay body")
        XCTAssertEqual(parts[2].text, "2")
    }

    func testEverySplitGivesTheSameParts() throws {
        let body = form()
        let whole = try MultipartParser.parse(body, contentType: contentType)
        for chunkSize in [1, 2, 3, 7, 41, 64] {
            var parser = try MultipartParser(contentType: contentType)
            var parts: [MultipartPart] = []
            var offset = 0
            while offset < body.count {
                parts += try parser.feed(body[offset..<min(offset + chunkSize, body.count)])
                offset += chunkSize
            }
            try parser.finish()
            XCTAssertEqual(parts, whole, "chunks of \(chunkSize)")
        }
    }

    func testPreambleEpilogueQuotedBoundaryAndPadding() throws {
        let body = Array("ignored preamble\r\n--b 1 \t\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nvalue\r\n--b 1--\r\nepilogue".utf8)
        let parts = try MultipartParser.parse(body, contentType: "Multipart/Form-Data; charset=utf-8; boundary=\"b 1\"")
        XCTAssertEqual(parts, [MultipartPart(name: "x", body: Array("value".utf8))])
    }

    func testBoundaryLookalikesInsideABodyStayBody() throws {
        let payload = Array("--b\r\n-b\r\n-bb--bb\r\n-bb".utf8)
        var body = Array("--bb\r\nContent-Disposition: form-data; name=f\r\n\r\n".utf8) + payload
        body += Array("\r\n--bb--".utf8)
        XCTAssertEqual(try MultipartParser.parse(body, contentType: "multipart/form-data; boundary=bb")[0].body, payload)
    }

    func testLimitsAreSizeErrors() throws {
        let limits = MultipartLimits(maxParts: 2)
        assertError(try MultipartParser.parse(form(), contentType: contentType, limits: limits), .tooManyParts(limit: 2))
        assertError(
            try MultipartParser.parse(form(), contentType: contentType, limits: MultipartLimits(maxPartBytes: 100)),
            .partTooLarge(name: "image[]", limit: 100))
        assertError(
            try MultipartParser.parse(form(), contentType: contentType, limits: MultipartLimits(maxHeaderBytes: 60)),
            .headerTooLarge(limit: 60))
        // A header block that never ends is refused once it passes the limit, not buffered.
        var parser = try MultipartParser(contentType: "multipart/form-data; boundary=x", limits: MultipartLimits(maxHeaderBytes: 64))
        _ = try parser.feed(Array("--x\r\nX-Long: ".utf8))
        assertError(try parser.feed(Array(repeating: UInt8(ascii: "a"), count: 100)), .headerTooLarge(limit: 64))
        XCTAssertTrue(MultipartError.partTooLarge(name: "a", limit: 1).isSizeLimit)
        XCTAssertFalse(MultipartError.truncated.isSizeLimit)
    }

    func testMalformedFormsAreRefused() throws {
        assertError(try MultipartParser(contentType: "application/json"), .notMultipartFormData)
        assertError(try MultipartParser(contentType: "multipart/form-data"), .notMultipartFormData)
        assertError(try MultipartParser(contentType: "multipart/form-data; boundary=\(String(repeating: "a", count: 71))"), .invalidBoundary)
        assertError(try MultipartParser(contentType: "multipart/form-data; boundary=a\u{1}b"), .invalidBoundary)
        let type = "multipart/form-data; boundary=q"
        assertError(
            try MultipartParser.parse(Array("--q\r\nContent-Disposition: form-data; name=a\r\n\r\nunterminated".utf8), contentType: type), .truncated)
        assertError(try MultipartParser.parse(Array("--q\r\nContent-Type: text/plain\r\n\r\nx\r\n--q--".utf8), contentType: type), .missingName)
        assertError(
            try MultipartParser.parse(Array("--q\r\nContent-Disposition: attachment; name=a\r\n\r\nx\r\n--q--".utf8), contentType: type), .missingName
        )
        assertError(try MultipartParser.parse(Array("--q\r\nno colon here\r\n\r\nx\r\n--q--".utf8), contentType: type), .malformedPartHeader)
        assertError(try MultipartParser.parse(Array("--qjunk\r\n".utf8), contentType: type), .malformedPartHeader)
        assertError(try MultipartParser.parse([], contentType: type), .truncated)
    }

    private func assertError<T>(_ expression: @autoclosure () throws -> T, _ expected: MultipartError, line: UInt = #line) {
        XCTAssertThrowsError(try expression(), line: line) { XCTAssertEqual($0 as? MultipartError, expected, line: line) }
    }
}
