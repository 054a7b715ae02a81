import Foundation
import HTTPServer
import XCTest

@testable import ImageAPI

/// `POST /v1/jobs` bodies: JSON with base64 files or a multipart form, read by the same rules as
/// the edit form, every refusal naming its parameter.
final class JobSubmissionTests: XCTestCase {
    private let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 1, 2, 0xFF]
    private var base64: String { Data(png).base64EncodedString() }

    private func jsonRequest(_ body: String) -> HTTPRequest {
        HTTPRequest(method: .post, target: "/v1/jobs", path: "/v1/jobs", headers: ["Content-Type": "application/json"], body: Array(body.utf8))
    }

    /// A form of text fields and files, in order.
    private func formRequest(_ parts: [(name: String, file: [UInt8]?, text: String?)]) -> HTTPRequest {
        var body: [UInt8] = []
        for part in parts {
            var head = "--XyZ\r\nContent-Disposition: form-data; name=\"\(part.name)\""
            if part.file != nil { head += "; filename=\"f.png\"\r\nContent-Type: image/png" }
            body += Array((head + "\r\n\r\n").utf8) + (part.file ?? Array((part.text ?? "").utf8)) + Array("\r\n".utf8)
        }
        body += Array("--XyZ--\r\n".utf8)
        return HTTPRequest(
            method: .post, target: "/v1/jobs", path: "/v1/jobs", headers: ["Content-Type": "multipart/form-data; boundary=XyZ"], body: body)
    }

    private func refusal(_ request: HTTPRequest, configuration: APIConfiguration = APIConfiguration()) -> APIError? {
        do {
            _ = try JobSubmission(request, configuration: configuration)
            return nil
        } catch {
            return error
        }
    }

    func testAPlainJSONJobHasNoEdit() throws {
        let submission = try JobSubmission(jsonRequest(#"{"class": "goldfish", "seed": 3, "preview_steps": [0, 2]}"#), configuration: .init())
        XCTAssertNil(submission.edit)
        XCTAssertEqual(submission.body.class, "goldfish")
        XCTAssertEqual(submission.body.sampling.seed, 3)
        XCTAssertEqual(submission.body.previewSteps, [0, 2])
    }

    func testJSONEditsCarryBase64OrDataURLs() throws {
        let submission = try JobSubmission(
            jsonRequest(#"{"prompt": "red circle", "image": "\#(base64)", "mask": "data:image/png;base64,\#(base64)"}"#), configuration: .init())
        let edit = try XCTUnwrap(submission.edit)
        XCTAssertEqual(edit.image.param, "image")
        XCTAssertEqual(edit.image.bytes, png)
        XCTAssertEqual(edit.mask?.bytes, png)
        XCTAssertNil(edit.strength)
        XCTAssertEqual(submission.body.prompt, "red circle")

        let variation = try JobSubmission(jsonRequest(#"{"class_label": 1, "image": "\#(base64)", "strength": 0.25}"#), configuration: .init())
        XCTAssertEqual(variation.edit?.strength, 0.25)
        XCTAssertNil(variation.edit?.mask)
    }

    func testBase64MayBeWrappedInLines() throws {
        let wrapped = base64.enumerated().map { $0.offset % 4 == 3 ? "\($0.element)\n" : "\($0.element)" }.joined()
        XCTAssertEqual(try EditInputs.base64(wrapped, param: "image", maxBytes: 100), png)
    }

    func testBadJSONEditsNameTheirParameter() {
        let cases: [(String, String, String?)] = [
            (#"{"image": "not base64!"}"#, "image", "invalid_base64"),
            (#"{"image": "data:image/png,abc"}"#, "image", "invalid_base64"),
            (#"{"image": 3}"#, "image", "invalid_type"),
            (#"{"mask": "\#(base64)"}"#, "image", "missing_required_parameter"),
            (#"{"strength": 0.5}"#, "image", "missing_required_parameter"),
            (#"{"image": "\#(base64)", "strength": "lots"}"#, "strength", "invalid_type"),
            (#"{"image": "\#(base64)", "mask": "%%"}"#, "mask", "invalid_base64"),
            (#"{"image": "\#(base64)", "image[]": "\#(base64)"}"#, "image[]", "unknown_parameter"),
        ]
        for (body, param, code) in cases {
            let error = refusal(jsonRequest(body))
            XCTAssertEqual(error?.status, .badRequest, body)
            XCTAssertEqual(error?.param, param, body)
            XCTAssertEqual(error?.code, code, body)
        }
    }

    func testAnUploadAboveTheLimitIsA413NamingIt() {
        var configuration = APIConfiguration()
        configuration.maxUploadBytes = png.count - 1
        let error = refusal(jsonRequest(#"{"image": "\#(base64)"}"#), configuration: configuration)
        XCTAssertEqual(error?.status, .contentTooLarge)
        XCTAssertEqual(error?.param, "image")
        let form = refusal(formRequest([("image", png, nil)]), configuration: configuration)
        XCTAssertEqual(form?.status, .contentTooLarge)
    }

    func testAFormJobTypesItsFieldsAsJSONDoes() throws {
        let submission = try JobSubmission(
            formRequest([
                ("model", nil, "m"), ("class", nil, "red circle"), ("seed", nil, "18446744073709551615"), ("steps", nil, "6"),
                ("guidance_scale", nil, "2.5"), ("preview_steps", nil, "0, 3,5"), ("image", png, nil), ("mask", png, nil),
            ]), configuration: .init())
        XCTAssertEqual(submission.body.model, "m")
        XCTAssertEqual(submission.body.class, "red circle")
        XCTAssertEqual(submission.body.sampling.seed, UInt64.max)
        XCTAssertEqual(submission.body.sampling.steps, 6)
        XCTAssertEqual(submission.body.sampling.guidanceScale, 2.5)
        XCTAssertEqual(submission.body.previewSteps, [0, 3, 5])
        XCTAssertEqual(submission.edit?.image.bytes, png)
        XCTAssertEqual(submission.edit?.mask?.bytes, png)

        let plain = try JobSubmission(formRequest([("prompt", nil, "3")]), configuration: .init())
        XCTAssertNil(plain.edit)
        XCTAssertEqual(plain.body.prompt, "3", "text fields stay text, digits too")
    }

    func testBadFormsNameTheirParameter() {
        let cases: [([(name: String, file: [UInt8]?, text: String?)], String)] = [
            ([("mask", png, nil)], "image"),
            ([("strength", nil, "0.5")], "image"),
            ([("image", png, nil), ("image[]", png, nil)], "image"),
            ([("image", png, nil), ("mask", png, nil), ("mask", png, nil)], "mask"),
            ([("image", png, nil), ("strenght", nil, "0.5")], "strenght"),
            ([("image", png, nil), ("strength", nil, "lots")], "strength"),
            ([("seed", nil, "x")], "seed"),
            ([("preview_steps", nil, "1;2")], "preview_steps"),
            ([("class", nil, "a"), ("class", nil, "b")], "class"),
            ([("stream", nil, "true")], "stream"),
        ]
        for (parts, param) in cases {
            let error = refusal(formRequest(parts))
            XCTAssertEqual(error?.status, .badRequest, "\(parts.map(\.name))")
            XCTAssertEqual(error?.param, param, "\(parts.map(\.name))")
        }
    }

    func testAMalformedFormIsA400() {
        var request = formRequest([("image", png, nil)])
        request.body.removeLast(10)
        let error = refusal(request)
        XCTAssertEqual(error?.status, .badRequest)
        XCTAssertEqual(error?.code, "invalid_form")
    }

    /// The body limits the HTTP server gets: a job fits two base64 uploads of the limit.
    func testTheJobRouteFitsTwoBase64Uploads() {
        let limits = APIConfiguration.uploadBodyLimits(maxUploadBytes: 3_000, fieldBytes: 100)
        XCTAssertEqual(limits["/v1/images/edits"], 6_100)
        XCTAssertEqual(limits["/v1/jobs"], 8_100)
    }
}
