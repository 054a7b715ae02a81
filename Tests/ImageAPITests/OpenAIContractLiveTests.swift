import Foundation
import Imaging
import XCTest

@testable import ImageAPI

/// OpenAI's Images parameters on a live server (the 8 px random test model, 4 default steps):
/// each one acts or answers a 400 naming it; jobs take the same output formats.
final class OpenAIContractLiveTests: XCTestCase {
    private func image(_ base64: Any?) throws -> [UInt8] {
        Array(try XCTUnwrap(Data(base64Encoded: try XCTUnwrap(base64 as? String))))
    }

    private func side(_ bytes: [UInt8]) throws -> [Int] {
        let decoded = try ImageDecoder.decode(bytes, limits: .generated)
        return [decoded.width, decoded.height]
    }

    private func isJPEG(_ bytes: [UInt8]) -> Bool { bytes.starts(with: [0xFF, 0xD8, 0xFF]) }
    private func isWebP(_ bytes: [UInt8]) -> Bool {
        bytes.count > 12 && bytes.starts(with: Array("RIFF".utf8)) && Array(bytes[8..<12]) == Array("WEBP".utf8)
    }

    func testEveryBadParameterIsA400NamingIt() throws {
        let live = try startLiveServer()
        for (extra, param) in [
            (#""n": 11"#, "n"), (#""n": 0"#, "n"), (#""size": "16x32""#, "size"), (#""size": "4096x4096""#, "size"),
            (#""size": "large""#, "size"), (#""quality": "ultra""#, "quality"), (#""output_format": "gif""#, "output_format"),
            (#""output_compression": 101"#, "output_compression"), (#""output_format": "jpeg", "output_compression": -1"#, "output_compression"),
            (#""background": "transparent""#, "background"), (#""moderation": "none""#, "moderation"),
            (#""response_format": "png""#, "response_format"), (#""partial_images": 4"#, "partial_images"), (#""user": 5"#, "user"),
            (#""style": "cartoon""#, "style"), (#""complexity": "low""#, "complexity"),
        ] {
            let response = try WireClient.request(
                port: live.port, "POST", "/v1/images/generations", body: #"{"prompt": "blue square", "# + extra + "}")
            XCTAssertEqual(response.status, 400, extra)
            XCTAssertEqual(try response.error()["param"] as? String, param, extra)
        }
        let transparent = try WireClient.request(
            port: live.port, "POST", "/v1/images/generations", body: #"{"prompt": "blue square", "background": "transparent"}"#)
        XCTAssertTrue((try transparent.error()["message"] as? String)?.contains("alpha") ?? false)
    }

    func testAcceptedNoOpParameters() throws {
        let live = try startLiveServer()
        let response = try WireClient.request(
            port: live.port, "POST", "/v1/images/generations",
            body:
                #"{"prompt": "blue square", "moderation": "low", "background": "opaque", "style": "natural", "user": "u-1", "output_compression": 50}"#
        )
        XCTAssertEqual(response.status, 200, response.text)
        let body = try response.json()
        XCTAssertEqual(body["output_format"] as? String, "png", "compression alone changes nothing for PNG")
        XCTAssertEqual(body["background"] as? String, "opaque")
        XCTAssertEqual(body["safety_identifier"] as? String, "u-1", "`user` is the effective safety identifier")
        XCTAssertTrue(isPNG(try image((body["data"] as? [[String: Any]])?.first?["b64_json"])))
    }

    func testSquareSizesAreResampledAndSaidSo() throws {
        let live = try startLiveServer()
        let response = try WireClient.request(
            port: live.port, "POST", "/v1/images/generations",
            body: #"{"prompt": "blue square", "size": "64x64", "n": 2, "output_format": "jpeg", "output_compression": 80}"#)
        XCTAssertEqual(response.status, 200, response.text)
        XCTAssertEqual(response.header("X-Image-Size"), "64x64")
        XCTAssertEqual(response.header("X-Model-Image-Size"), "8x8")
        let body = try response.json()
        XCTAssertEqual(body["size"] as? String, "64x64")
        XCTAssertEqual(body["output_format"] as? String, "jpeg")
        let usage = try XCTUnwrap(body["usage"] as? [String: Any])
        XCTAssertEqual(usage["output_tokens"] as? Int, 32, "tokens are the model's, whatever the delivered size")
        for item in try XCTUnwrap(body["data"] as? [[String: Any]]) {
            let bytes = try image(item["b64_json"])
            XCTAssertTrue(isJPEG(bytes))
            XCTAssertEqual(try side(bytes), [64, 64])
        }
        let native = try WireClient.request(port: live.port, "POST", "/v1/images/generations", body: #"{"prompt": "blue square", "size": "8x8"}"#)
        XCTAssertEqual(native.header("X-Image-Size"), "8x8", "the model's own size is not resampled")
        XCTAssertEqual(native.header("X-Model-Image-Size"), "8x8")
        XCTAssertEqual(try native.json()["size"] as? String, "8x8")
    }

    func testQualityPicksTheStepsAndExplicitStepsWin() throws {
        let live = try startLiveServer()
        func steps(_ extra: String) throws -> (quality: String?, steps: String?) {
            let body = try WireClient.request(
                port: live.port, "POST", "/v1/images/generations", body: #"{"prompt": "blue square", "# + extra + "}"
            ).json()
            let png = String(decoding: try image((body["data"] as? [[String: Any]])?.first?["b64_json"]), as: UTF8.self)
            let value = png.components(separatedBy: "Steps: ").dropFirst().first?.prefix { $0.isNumber }
            return (body["quality"] as? String, value.map(String.init))
        }
        XCTAssertTrue(try steps(#""quality": "low""#) == ("low", "2"))
        XCTAssertTrue(try steps(#""quality": "auto""#) == ("medium", "4"))
        XCTAssertTrue(try steps(#""quality": "medium""#) == ("medium", "4"))
        XCTAssertTrue(try steps(#""quality": "high""#) == ("high", "8"))
        XCTAssertTrue(try steps(#""quality": "hd""#) == ("high", "8"))
        XCTAssertTrue(try steps(#""quality": "max""#) == ("max", "16"))
        XCTAssertTrue(try steps(#""quality": "low", "steps": 6"#) == ("low", "6"), "explicit steps win")
    }

    func testURLAnswerServesTheAskedFormatAndSize() throws {
        let live = try startLiveServer()
        let response = try WireClient.request(
            port: live.port, "POST", "/v1/images/generations",
            body: #"{"prompt": "blue square", "response_format": "url", "output_format": "webp", "output_compression": 70, "size": "32x32"}"#)
        XCTAssertEqual(response.status, 200, response.text)
        let url = try XCTUnwrap((try response.json()["data"] as? [[String: Any]])?.first?["url"] as? String)
        let base = try XCTUnwrap(url.range(of: "/v1/jobs/")).lowerBound
        XCTAssertTrue(url.hasPrefix("http://"), url)
        XCTAssertTrue(url.hasSuffix("/image?output_format=webp&output_compression=70&size=32x32"), url)
        let image = try WireClient.request(port: live.port, "GET", String(url[base...]))
        XCTAssertEqual(image.status, 200)
        XCTAssertEqual(image.header("Content-Type"), "image/webp")
        XCTAssertEqual(image.header("X-Image-Size"), "32x32")
        XCTAssertTrue(isWebP(image.body))
        XCTAssertEqual(try side(image.body), [32, 32])
    }

    func testStreamedPartialsAndCompletedInTheAskedFormatAndSize() throws {
        let live = try startLiveServer()
        let response = try WireClient.request(
            port: live.port, "POST", "/v1/images/generations",
            body: #"{"prompt": "green triangle", "stream": true, "partial_images": 2, "steps": 6, "size": "24x24", "output_format": "jpeg"}"#)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.header("X-Image-Size"), "24x24")
        let events = parseSSE(response.text)
        XCTAssertEqual(events.map(\.event), ["image_generation.partial_image", "image_generation.partial_image", "image_generation.completed"])
        for event in events {
            let data = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(event.data.utf8)) as? [String: Any])
            XCTAssertEqual(data["output_format"] as? String, "jpeg")
            XCTAssertEqual(data["size"] as? String, "24x24")
            let bytes = try image(data["b64_json"])
            XCTAssertTrue(isJPEG(bytes))
            XCTAssertEqual(try side(bytes), [24, 24])
        }
        // Two steps leave room for one partial image: the completed event follows fewer than asked.
        let short = try WireClient.request(
            port: live.port, "POST", "/v1/images/generations",
            body: #"{"prompt": "green triangle", "stream": true, "partial_images": 3, "steps": 2}"#)
        XCTAssertEqual(parseSSE(short.text).map(\.event), ["image_generation.partial_image", "image_generation.completed"])
    }

    func testJobsTakeTheOutputFormat() throws {
        let live = try startLiveServer()
        let jpeg = try WireClient.request(port: live.port, "GET", "/v1/jobs/new?class=blue+square&seed=3&output_format=jpeg&output_compression=60")
        XCTAssertEqual(jpeg.status, 200)
        XCTAssertEqual(jpeg.header("Content-Type"), "image/jpeg")
        XCTAssertTrue(isJPEG(jpeg.body))
        let id = try XCTUnwrap(jpeg.header("X-Job-Id"))
        XCTAssertTrue(isPNG(try WireClient.request(port: live.port, "GET", "/v1/jobs/\(id)/image").body), "the image route's default stays PNG")
        let webp = try WireClient.request(port: live.port, "GET", "/v1/jobs/\(id)/image?output_format=webp&size=16x16")
        XCTAssertEqual(webp.header("Content-Type"), "image/webp")
        XCTAssertEqual(try side(webp.body), [16, 16])
        XCTAssertEqual(
            try WireClient.request(port: live.port, "GET", "/v1/jobs/\(id)/image?size=10x12").error()["param"] as? String, "size")

        let posted = try WireClient.request(
            port: live.port, "POST", "/v1/jobs", headers: [("Accept", "image/png")], body: #"{"class_label": 1, "output_format": "webp"}"#)
        XCTAssertEqual(posted.header("Content-Type"), "image/webp")
        XCTAssertTrue(isWebP(posted.body))
        let bad = try WireClient.request(port: live.port, "POST", "/v1/jobs", body: #"{"class_label": 1, "output_compression": 500}"#)
        XCTAssertEqual(try bad.error()["param"] as? String, "output_compression")
        XCTAssertEqual(
            try WireClient.request(port: live.port, "GET", "/v1/jobs/new?class_label=1&output_format=tiff").error()["param"] as? String,
            "output_format")

        let created = try WireClient.request(port: live.port, "POST", "/v1/jobs", body: #"{"class_label": 1, "output_format": "jpeg"}"#).json()
        let links = try XCTUnwrap(created["links"] as? [String: Any])
        XCTAssertTrue((links["image"] as? String)?.hasSuffix("/image?output_format=jpeg") ?? false, "\(links)")

        let multipart = try WireClient.request(port: live.port, "GET", "/v1/jobs/new?class_label=0&stream=multipart&output_format=jpeg")
        let text = String(decoding: multipart.body, as: UTF8.self)
        XCTAssertEqual(text.components(separatedBy: "Content-Type: image/jpeg").count - 1, 5, "4 step frames + the final image")
        XCTAssertFalse(text.contains("image/png"))

        let sse = try WireClient.request(port: live.port, "GET", "/v1/jobs/new?class_label=2&stream=sse&output_format=webp")
        let images = try parseSSE(sse.text).compactMap { event -> String? in
            let data = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(event.data.utf8)) as? [String: Any])
            return data["image"] as? String
        }
        XCTAssertEqual(images.count, 5)
        XCTAssertTrue(try images.allSatisfy { isWebP(try image($0)) })
    }
}
