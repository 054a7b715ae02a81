import Foundation
import XCTest

@testable import HTTPServer

final class HTTPErrorResponseTests: XCTestCase {
    func testEveryErrorBecomesJSONWithCloseAndItsStatus() throws {
        let all: [HTTPRequestError] =
            HTTPRequestParserTests.malformed.map(\.error)
            + [.headTimeout, .bodyTimeout, .serverBusy, .tooManyConnectionsFromAddress]
        for error in all {
            let response = HTTPErrorResponse.make(for: error, retryAfterSeconds: 7)
            XCTAssertEqual(response.status, error.status)
            XCTAssertEqual(response.headers["connection"], "close")
            XCTAssertEqual(response.headers["content-type"], "application/json")
            guard case .bytes(let body) = response.body else { return XCTFail("no body for \(error)") }
            let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
            let inner = try XCTUnwrap(json["error"] as? [String: Any])
            XCTAssertEqual(inner["message"] as? String, error.message)
            XCTAssertEqual(inner["code"] as? String, error.code)
            XCTAssertTrue(inner["param"] is NSNull)
            XCTAssertEqual(inner["type"] as? String, error == .serverBusy ? "server_error" : "invalid_request_error")
        }
        XCTAssertEqual(HTTPErrorResponse.make(for: .serverBusy, retryAfterSeconds: 7).headers["retry-after"], "7")
        XCTAssertEqual(HTTPErrorResponse.make(for: .tooManyConnectionsFromAddress, retryAfterSeconds: 7).headers["retry-after"], "7")
        XCTAssertNil(HTTPErrorResponse.make(for: .bodyTooLarge).headers["retry-after"])
    }

    func testStatuses() {
        XCTAssertEqual(HTTPRequestError.requestLineTooLong.status.code, 414)
        XCTAssertEqual(HTTPRequestError.headerSectionTooLarge.status.code, 431)
        XCTAssertEqual(HTTPRequestError.tooManyHeaderFields.status.code, 431)
        XCTAssertEqual(HTTPRequestError.bodyTooLarge.status.code, 413)
        XCTAssertEqual(HTTPRequestError.unsupportedVersion.status.code, 505)
        XCTAssertEqual(HTTPRequestError.unsupportedTransferEncoding.status.code, 501)
        XCTAssertEqual(HTTPRequestError.headTimeout.status.code, 408)
        XCTAssertEqual(HTTPRequestError.serverBusy.status.code, 503)
        XCTAssertEqual(HTTPRequestError.tooManyConnectionsFromAddress.status.code, 429)
        XCTAssertEqual(HTTPRequestError.methodNotImplemented.status.code, 501)
        XCTAssertEqual(HTTPRequestError.invalidTransferEncoding.status.code, 400)
        XCTAssertEqual(HTTPRequestError.invalidHost.status.code, 400)
    }

    func testJSONEscaping() {
        XCTAssertEqual(HTTPErrorResponse.jsonString("a\"b\\c\n\u{1}"), #""a\"b\\c\n\u0001""#)
    }
}
