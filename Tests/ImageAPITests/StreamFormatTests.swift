import HTTPServer
import XCTest

@testable import ImageAPI

final class StreamFormatTests: XCTestCase {
    private func negotiate(accept: String?, query: String? = nil, fallback: StreamFormat?) throws -> StreamFormat? {
        var headers = HTTPHeaders()
        if let accept { headers["Accept"] = accept }
        let items = query.map { [QueryItem(name: "stream", value: $0)] } ?? []
        let request = HTTPRequest(method: .get, target: "/", path: "/", queryItems: items, headers: headers)
        return try StreamFormat.negotiate(request, fallback: fallback)
    }

    func testQueryWinsOverAccept() throws {
        XCTAssertEqual(try negotiate(accept: "text/event-stream", query: "multipart", fallback: nil), .multipart)
        XCTAssertEqual(try negotiate(accept: nil, query: "NDJSON", fallback: nil), .ndjson)
        XCTAssertThrowsError(try negotiate(accept: nil, query: "gif", fallback: nil)) {
            XCTAssertEqual(($0 as? APIError)?.param, "stream")
        }
    }

    func testAcceptInClientOrder() throws {
        XCTAssertEqual(try negotiate(accept: "text/event-stream", fallback: .png), .sse)
        XCTAssertEqual(try negotiate(accept: "multipart/x-mixed-replace", fallback: nil), .multipart)
        XCTAssertEqual(try negotiate(accept: "application/x-ndjson, text/event-stream", fallback: nil), .ndjson)
        XCTAssertEqual(try negotiate(accept: "text/event-stream;q=0, image/png", fallback: nil), .png)
        XCTAssertEqual(try negotiate(accept: "image/png", fallback: nil), .png)
        XCTAssertNil(try negotiate(accept: "application/json", fallback: .png), "JSON asks for the job, not an image")
        XCTAssertEqual(try negotiate(accept: "*/*", fallback: .png), .png)
        // What a browser sends for <img>.
        XCTAssertEqual(try negotiate(accept: "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8", fallback: .png), .png)
        XCTAssertNil(try negotiate(accept: nil, fallback: nil))
    }
}
