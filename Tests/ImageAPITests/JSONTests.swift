import ENAT
import HTTPServer
import XCTest

@testable import ImageAPI

final class JSONTests: XCTestCase {
    private func request(_ body: String, contentType: String? = "application/json") -> HTTPRequest {
        var headers = HTTPHeaders()
        if let contentType { headers["Content-Type"] = contentType }
        return HTTPRequest(method: .post, target: "/v1/images/generations", path: "/v1/images/generations", headers: headers, body: Array(body.utf8))
    }

    private func decodeError(_ body: String, contentType: String? = "application/json") -> APIError? {
        do {
            _ = try JSON.decodeRequest(ImageGenerationBody.self, from: request(body, contentType: contentType))
            return nil
        } catch {
            return error
        }
    }

    func testDecodesEveryParameter() throws {
        let body = try JSON.decodeRequest(
            ImageGenerationBody.self,
            from: request(
                #"""
                {"prompt": "goldfish", "model": "m", "n": 2, "size": "8x8", "response_format": "b64_json", "output_format": "png",
                 "quality": "high", "background": "opaque", "stream": true, "partial_images": 2, "moderation": "auto", "user": "u",
                 "class_label": 1, "seed": 18446744073709551615, "steps": 6, "guidance_scale": 3.5, "mask_temperature": 1,
                 "sample_temperature": 4.5, "preview": "mosaic"}
                """#))
        XCTAssertEqual(body.prompt, "goldfish")
        XCTAssertEqual(body.n, 2)
        XCTAssertEqual(body.stream, true)
        XCTAssertEqual(body.partialImages, 2)
        XCTAssertEqual(body.sampling.classLabel, 1)
        XCTAssertEqual(body.sampling.seed, UInt64.max)
        XCTAssertEqual(body.sampling.steps, 6)
        XCTAssertEqual(body.sampling.guidanceScale, 3.5)
        XCTAssertEqual(body.sampling.maskTemperature, 1)
        XCTAssertEqual(body.sampling.sampleTemperature, 4.5)
        XCTAssertEqual(body.sampling.preview, "mosaic")
    }

    func testUnknownKeysWrongTypesAndBadNumbersAreRejectedWithTheirName() {
        let table: [(String, String?, String)] = [
            (#"{"prompt": "x", "setps": 3}"#, "setps", "unknown_parameter"),
            (#"{"prompt": "x", "n": "2"}"#, "n", "invalid_type"),
            (#"{"prompt": "x", "n": 2.5}"#, "n", "invalid_type"),
            (#"{"prompt": "x", "n": 2.0}"#, nil, ""),
            (#"{"prompt": "x", "n": true}"#, "n", "invalid_type"),
            (#"{"prompt": 3}"#, "prompt", "invalid_type"),
            (#"{"prompt": "x", "guidance_scale": "2"}"#, "guidance_scale", "invalid_type"),
            (#"{"prompt": "x", "seed": -2}"#, "seed", "invalid_value"),
            (#"{"prompt": "x", "stream": 1}"#, "stream", "invalid_type"),
            (#"{"prompt": "x", "n": null}"#, nil, ""),  // null is "not given", as OpenAI treats it
            (#"["prompt"]"#, nil, "invalid_json"),
            (#"{"prompt": "x", "guidance_scale": 1e999}"#, nil, "invalid_json"),
            (#"{"prompt": "x", "seed": 18446744073709551616}"#, "seed", "invalid_value"),
            (#"{"prompt": NaN}"#, nil, "invalid_json"),
            ("", nil, "missing_body"),
        ]
        for (body, param, code) in table {
            let error = decodeError(body)
            if code.isEmpty {
                XCTAssertNil(error, body)
                continue
            }
            XCTAssertEqual(error?.status.code, 400, body)
            XCTAssertEqual(error?.param, param, body)
            XCTAssertEqual(error?.code, code, body)
        }
    }

    func testNonFiniteNumbersAreRefused() {
        let error = APIError.setting(.guidanceScale(.nan, allowed: 0...50), model: "m", textParam: "prompt")
        XCTAssertEqual(error.param, "guidance_scale")
        XCTAssertEqual(error.message, "'guidance_scale' must be a finite number.")
    }

    func testContentTypeMustBeJSON() {
        XCTAssertEqual(decodeError(#"{"prompt": "x"}"#, contentType: "application/x-www-form-urlencoded")?.status.code, 415)
        XCTAssertNil(decodeError(#"{"prompt": "x"}"#, contentType: "application/json; charset=utf-8"))
        XCTAssertNil(decodeError(#"{"prompt": "x"}"#, contentType: nil))
    }

    func testErrorBodyHasAllFourFields() throws {
        let response = APIError.invalid("n", "bad n").response
        XCTAssertEqual(response.status.code, 400)
        XCTAssertEqual(response.headers["Content-Type"], "application/json")
        guard case .bytes(let bytes) = response.body else { return XCTFail("no body") }
        XCTAssertEqual(
            String(decoding: bytes, as: UTF8.self),
            #"{"error":{"code":"invalid_value","message":"bad n","param":"n","type":"invalid_request_error"}}"#)
        let nullParam = String(decoding: JSON.encode(APIError.notFound("gone").body), as: UTF8.self)
        XCTAssertTrue(nullParam.contains(#""param":null"#), nullParam)
    }

    func testQueueFullCarriesBothRetryHeaders() {
        let error = APIError.queueFull(retryAfter: .milliseconds(2300))
        XCTAssertEqual(error.status.code, 503)
        XCTAssertEqual(error.headers["Retry-After"], "3")
        XCTAssertEqual(error.headers["retry-after-ms"], "2300")
    }

    func testJobQueryParametersAreStrict() throws {
        let body = try JobBody(query: [
            ("model", "m"), ("class", "goldfish"), ("seed", "5"), ("steps", "3"), ("guidance_scale", "1.5"), ("stream", "sse"),
        ])
        XCTAssertEqual(body.class, "goldfish")
        XCTAssertEqual(body.sampling.seed, 5)
        XCTAssertEqual(body.sampling.steps, 3)
        XCTAssertEqual(body.sampling.guidanceScale, 1.5)
        XCTAssertEqual(body.model, "m")
        XCTAssertThrowsError(try JobBody(query: [("colour", "red")])) { XCTAssertEqual(($0 as? APIError)?.param, "colour") }
        XCTAssertThrowsError(try JobBody(query: [("seed", "x")])) { XCTAssertEqual(($0 as? APIError)?.param, "seed") }
        XCTAssertThrowsError(try JobBody(query: [("guidance_scale", "inf")])) { XCTAssertEqual(($0 as? APIError)?.param, "guidance_scale") }
        XCTAssertThrowsError(try JobBody(query: [("seed", "1"), ("seed", "2")])) { XCTAssertEqual(($0 as? APIError)?.param, "seed") }
        XCTAssertThrowsError(try JobBody(query: [("class", "a"), ("class", "b")])) { XCTAssertEqual(($0 as? APIError)?.param, "class") }
    }
}
