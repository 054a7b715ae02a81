import Foundation
import Imaging
import Scheduler
import XCTest

@testable import ImageAPI

/// Job events to the bytes of each stream format.
final class JobStreamEncoderTests: XCTestCase {
    private let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47]
    private var result: GenerationResult {
        GenerationResult(png: png, tokens: [1, 2], seed: 42, queueSeconds: 0.5, runSeconds: 1.25)
    }

    func testSSEEncoderEmitsProgressCompletedAndError() throws {
        var encoder = JobStreamEncoder(format: .sse, jobID: "job_1", steps: 4)
        XCTAssertEqual(String(decoding: encoder.opening(), as: UTF8.self), ": job job_1\n\n")
        let queued = String(decoding: encoder.encode(.queued(position: 2)), as: UTF8.self)
        XCTAssertEqual(
            queued,
            "event: progress\ndata: {\"job_id\":\"job_1\",\"queue_position\":2,\"state\":\"queued\",\"step\":0,\"steps\":4,\"type\":\"progress\"}\n\n"
        )
        let step = String(
            decoding: encoder.encode(.step(StepProgress(step: 1, steps: 4, revealed: 3, tokenCount: 16, previewPNG: png))), as: UTF8.self)
        XCTAssertTrue(step.hasPrefix("event: progress\ndata: {"))
        let data = try sseData(step)
        XCTAssertEqual(data["step"] as? Int, 1)
        XCTAssertEqual(data["steps"] as? Int, 4)
        XCTAssertEqual(data["revealed"] as? Int, 3)
        XCTAssertEqual(data["image"] as? String, Data(png).base64EncodedString())
        let completed = String(decoding: encoder.encode(.completed(result)), as: UTF8.self)
        XCTAssertTrue(completed.hasPrefix("event: completed\n"))
        XCTAssertEqual(try sseData(completed)["seed"] as? Int, 42)
        let failed = String(decoding: encoder.encode(.failed(.deadlineExceeded)), as: UTF8.self)
        XCTAssertTrue(failed.hasPrefix("event: error\n"))
        let error = try XCTUnwrap(try sseData(failed)["error"] as? [String: Any])
        XCTAssertEqual(error["code"] as? String, "deadline_exceeded")
        XCTAssertEqual(String(decoding: encoder.ping(), as: UTF8.self), ": ping\n\n")
    }

    func testNDJSONEncoderWritesOneObjectPerLine() throws {
        var encoder = JobStreamEncoder(format: .ndjson, jobID: "job_2", steps: 2)
        XCTAssertEqual(encoder.opening(), [])
        XCTAssertEqual(encoder.ping(), [])
        let lines = [encoder.encode(.started), encoder.encode(.completed(result)), encoder.encode(.failed(.cancelled))]
            .map { String(decoding: $0, as: UTF8.self) }
        for line in lines {
            XCTAssertTrue(line.hasSuffix("\n"))
            XCTAssertEqual(line.filter { $0 == "\n" }.count, 1)
        }
        let types = try lines.map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])["type"] as? String }
        XCTAssertEqual(types, ["progress", "completed", "error"])
    }

    func testMultipartEncoderSendsOnlyFrames() {
        var encoder = JobStreamEncoder(format: .multipart, jobID: "job_3", steps: 2)
        XCTAssertEqual(encoder.encode(.queued(position: 0)), [])
        XCTAssertEqual(encoder.encode(.step(StepProgress(step: 1, steps: 2, revealed: 1, tokenCount: 4, previewPNG: nil))), [])
        XCTAssertEqual(
            encoder.encode(.step(StepProgress(step: 1, steps: 2, revealed: 1, tokenCount: 4, previewPNG: png))),
            MultipartFraming.part(contentType: "image/png", body: png, last: false))
        XCTAssertEqual(encoder.encode(.completed(result)), MultipartFraming.part(contentType: "image/png", body: png, last: true))
        let failure = String(decoding: encoder.encode(.failed(.cancelled)), as: UTF8.self)
        XCTAssertTrue(failure.hasPrefix("Content-Type: application/json\r\n"), failure)
        XCTAssertTrue(failure.contains("job_cancelled"))
        XCTAssertTrue(failure.hasSuffix("--enatframe--\r\n"))
    }

    func testFramesAndTheFinalImageTakeTheOutputFormat() throws {
        let output = OutputImageFormat(format: .jpeg, compression: 70)
        var encoder = JobStreamEncoder(format: .multipart, jobID: "job_4", steps: 2, output: output, finalImage: { _ in [0xFF, 0xD8, 0xFF] })
        XCTAssertEqual(encoder.encode(.completed(result)), MultipartFraming.part(contentType: "image/jpeg", body: [0xFF, 0xD8, 0xFF], last: true))
        // A frame that cannot be encoded (not a PNG here) is skipped, never sent mislabelled.
        XCTAssertEqual(encoder.encode(.step(StepProgress(step: 1, steps: 2, revealed: 1, tokenCount: 4, previewPNG: png))), [])
        var failing = JobStreamEncoder(
            format: .sse, jobID: "job_5", steps: 2, output: output, finalImage: { _ throws(APIError) in throw APIError.internalError("no codec") })
        let event = String(decoding: failing.encode(.completed(result)), as: UTF8.self)
        XCTAssertTrue(event.hasPrefix("event: error\n"), event)
        XCTAssertTrue(event.contains("no codec"), event)
    }

    private func sseData(_ event: String) throws -> [String: Any] {
        let line = try XCTUnwrap(event.split(separator: "\n").first { $0.hasPrefix("data: ") })
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any])
    }
}
