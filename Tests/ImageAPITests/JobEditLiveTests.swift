import Foundation
import XCTest

@testable import ImageAPI

/// `POST /v1/jobs` as a form and with an edit, on a live server with the random test model
/// (which has no VQGAN encoder: the end-to-end tests edit with the demo models).
final class JobEditLiveTests: XCTestCase {
    func testAFormJobAnswersItsImage() throws {
        let live = try startLiveServer()
        let form =
            [("class", "blue square"), ("seed", "4"), ("steps", "2")].map {
                "--B\r\nContent-Disposition: form-data; name=\"\($0.0)\"\r\n\r\n\($0.1)\r\n"
            }.joined() + "--B--\r\n"
        let answer = try WireClient.request(
            port: live.port, "POST", "/v1/jobs?stream=png", headers: [("Content-Type", "multipart/form-data; boundary=B")], body: form)
        XCTAssertEqual(answer.status, 200, answer.text)
        XCTAssertEqual(answer.header("Content-Type"), "image/png")
    }

    func testAnEditJobNeedsAModelWithAnEncoder() throws {
        let live = try startLiveServer()
        let model = try WireClient.request(port: live.port, "GET", "/v1/models/tiny-class").json()
        XCTAssertEqual(model["can_edit"] as? Bool, false, "the page offers inpainting only where it works")
        let image = Data([0x89, 0x50, 0x4E, 0x47]).base64EncodedString()
        let answer = try WireClient.request(port: live.port, "POST", "/v1/jobs", body: #"{"class": "blue square", "image": "\#(image)"}"#)
        XCTAssertEqual(answer.status, 400)
        XCTAssertEqual(try answer.error()["param"] as? String, "model")
        XCTAssertEqual(try answer.error()["code"] as? String, "model_cannot_edit")
    }
}
