import Foundation
import XCTest

@testable import ImageAPI

/// The field lists are those of the `openai` Python SDK's models (`ImagesResponse`,
/// `ImageGenPartialImageEvent`, `ImageGenCompletedEvent` and their `Usage`).
final class OpenAIImageBodiesTests: XCTestCase {
    private func object(_ value: some Encodable) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(JSON.encode(value))) as? [String: Any])
    }

    private let usage = ImageUsage(inputTokens: 1, outputTokens: 256)

    func testPartialImageEventFields() throws {
        let event = try object(
            PartialImageEvent(
                type: "image_generation.partial_image", b64Json: "AA==", createdAt: 1, partialImageIndex: 0, quality: "high", size: "8x8",
                imageIndex: 0, seed: 9_007_199_254_740_991))
        for key in ["b64_json", "background", "created_at", "output_format", "partial_image_index", "quality", "size", "type", "seed"] {
            XCTAssertNotNil(event[key], key)
        }
        XCTAssertEqual(event["type"] as? String, "image_generation.partial_image")
        XCTAssertEqual(event["background"] as? String, "opaque")
        XCTAssertEqual(event["output_format"] as? String, "png")
        XCTAssertEqual(event["seed"] as? Int, 9_007_199_254_740_991, "the seed travels as an exact JSON integer")
    }

    func testCompletedEventFields() throws {
        let event = try object(
            CompletedImageEvent(
                type: "image_generation.completed", b64Json: "AA==", createdAt: 1, quality: "high", size: "8x8", usage: usage, imageIndex: 0, seed: 3,
                model: "demo"))
        for key in ["b64_json", "background", "created_at", "output_format", "quality", "size", "type", "usage", "seed", "model"] {
            XCTAssertNotNil(event[key], key)
        }
        XCTAssertEqual(event["type"] as? String, "image_generation.completed")
        let usage = try XCTUnwrap(event["usage"] as? [String: Any])
        XCTAssertEqual(usage["input_tokens"] as? Int, 1)
        XCTAssertEqual(usage["output_tokens"] as? Int, 256)
        XCTAssertEqual(usage["total_tokens"] as? Int, 257)
        let details = try XCTUnwrap(usage["input_tokens_details"] as? [String: Any])
        XCTAssertEqual(details["image_tokens"] as? Int, 0)
        XCTAssertEqual(details["text_tokens"] as? Int, 1)
    }

    func testImagesResponseFields() throws {
        let body = try object(
            ImagesResponseBody(
                created: 5, data: [.init(b64Json: "AA==", seed: 42)], model: "demo", quality: "high", size: "8x8", usage: usage))
        for key in ["created", "data", "model", "background", "output_format", "quality", "size", "usage"] {
            XCTAssertNotNil(body[key], key)
        }
        let image = try XCTUnwrap((body["data"] as? [[String: Any]])?.first)
        XCTAssertEqual(image["b64_json"] as? String, "AA==")
        XCTAssertEqual(image["seed"] as? Int, 42)
        XCTAssertNil(image["url"], "absent fields are left out, not null")
    }

    func testUsageCountsAnEditsImageTokensAndEveryImage() throws {
        let edit = ImageUsage(textTokens: 77, imageTokens: 64, outputTokens: 64).times(3)
        let usage = try object(edit)
        XCTAssertEqual(usage["input_tokens"] as? Int, 141, "the condition and the source image, read once")
        XCTAssertEqual(usage["output_tokens"] as? Int, 192, "every image's tokens")
        XCTAssertEqual(usage["total_tokens"] as? Int, 333)
        let details = try XCTUnwrap(usage["input_tokens_details"] as? [String: Any])
        XCTAssertEqual(details["image_tokens"] as? Int, 64)
        XCTAssertEqual(details["text_tokens"] as? Int, 77)
    }

    func testResponseEchoesFormatAndSafetyIdentifier() throws {
        let body = try object(
            ImagesResponseBody(
                created: 5, data: [], model: "demo", outputFormat: "webp", quality: "low", safetyIdentifier: "user-1", size: "1024x1024",
                usage: usage))
        XCTAssertEqual(body["output_format"] as? String, "webp")
        XCTAssertEqual(body["safety_identifier"] as? String, "user-1")
        XCTAssertEqual(body["quality"] as? String, "low")
        XCTAssertEqual(body["size"] as? String, "1024x1024")
        let plain = try object(ImagesResponseBody(created: 5, data: [], model: "demo", quality: "medium", size: "8x8", usage: usage))
        XCTAssertNil(plain["safety_identifier"], "absent without an identifier")
    }
}
