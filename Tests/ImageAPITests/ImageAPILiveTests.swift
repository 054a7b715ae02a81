import Foundation
import Scheduler
import ServerLog
import XCTest

@testable import ImageAPI

/// The API on a live loopback server with the real scheduler and a very small random model.
final class ImageAPILiveTests: XCTestCase {
    func testServiceEndpoints() throws {
        let live = try startLiveServer()
        let health = try WireClient.request(port: live.port, "GET", "/healthz")
        XCTAssertEqual(health.status, 200)
        XCTAssertEqual(try health.json()["status"] as? String, "ok")
        XCTAssertNotNil(health.header("X-Request-Id"))
        XCTAssertTrue(eventually { (try? WireClient.request(port: live.port, "GET", "/readyz").status) == 200 })

        let models = try WireClient.request(port: live.port, "GET", "/v1/models").json()
        XCTAssertEqual(models["object"] as? String, "list")
        let model = try XCTUnwrap((models["data"] as? [[String: Any]])?.first)
        XCTAssertEqual(model["id"] as? String, "tiny-class")
        XCTAssertEqual(model["object"] as? String, "model")
        XCTAssertEqual(model["kind"] as? String, "class")
        XCTAssertEqual(model["resolution"] as? Int, 8)
        XCTAssertEqual(model["classes"] as? [String], ["red circle, red disc", "blue square", "green triangle"])
        XCTAssertEqual(try WireClient.request(port: live.port, "GET", "/v1/models/tiny-class").status, 200)
        XCTAssertEqual(try WireClient.request(port: live.port, "GET", "/v1/models/nope").status, 404)

        let page = try WireClient.request(port: live.port, "GET", "/")
        XCTAssertEqual(page.status, 200)
        XCTAssertEqual(page.header("Content-Type"), "text/html; charset=utf-8")
        XCTAssertTrue(page.text.contains("stream=ndjson"))
        XCTAssertFalse(page.text.contains("http://") || page.text.contains("https://"), "the page loads nothing external")

        let metrics = try WireClient.request(port: live.port, "GET", "/metrics")
        XCTAssertEqual(metrics.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8")
        XCTAssertTrue(metrics.text.contains(#"enat_http_requests_total{route="/healthz",code="200"} 1"#), metrics.text)
    }

    /// Requests the HTTP layer refuses never reach a route; they are counted and logged all the same.
    func testRequestsRefusedByTheHTTPLayerAreCounted() throws {
        let live = try startLiveServer()
        let client = try WireClient(port: live.port)
        client.send("GET", "/v1/models", headers: [("Bad Name", "x")])
        let refused = try WireClient.parse(client.readAll())
        XCTAssertEqual(refused.status, 400)
        let metrics = try WireClient.request(port: live.port, "GET", "/metrics")
        XCTAssertTrue(
            metrics.text.contains(#"enat_http_rejections_total{reason="invalid_header_name",code="400"} 1"#), metrics.text)
        XCTAssertFalse(metrics.text.contains(#"route="/v1/models""#), "the refused request reached no route")
    }

    func testRoutingErrors() throws {
        let live = try startLiveServer()
        let missing = try WireClient.request(port: live.port, "GET", "/v2/nothing")
        XCTAssertEqual(missing.status, 404)
        XCTAssertEqual(try missing.error()["type"] as? String, "not_found_error")
        let wrongMethod = try WireClient.request(port: live.port, "GET", "/v1/images/generations")
        XCTAssertEqual(wrongMethod.status, 405)
        XCTAssertEqual(wrongMethod.header("Allow"), "POST")
        XCTAssertEqual(try WireClient.request(port: live.port, "PUT", "/v1/jobs/job_x").status, 405)
        XCTAssertEqual(try WireClient.request(port: live.port, "HEAD", "/healthz").status, 200)
        let head = try WireClient.request(port: live.port, "HEAD", "/v1/jobs/new?class_label=1")
        XCTAssertEqual(head.status, 405, "a HEAD must not start a generation")
        XCTAssertEqual(head.header("Allow"), "GET")
        let unknownJob = try WireClient.request(port: live.port, "GET", "/v1/jobs/job_nope")
        XCTAssertEqual(unknownJob.status, 404)
        XCTAssertEqual(try unknownJob.error()["code"] as? String, "job_not_found")
        let invalid = try WireClient.request(port: live.port, "POST", "/v1/images/generations", body: #"{"prompt": "blue square", "n": 11}"#)
        XCTAssertEqual(invalid.status, 400)
        let error = try invalid.error()
        XCTAssertEqual(error["param"] as? String, "n")
        XCTAssertEqual(error["type"] as? String, "invalid_request_error")
        XCTAssertNotNil(error["message"] as? String)
        XCTAssertTrue(error.keys.contains("code"))
        let size = try WireClient.request(port: live.port, "POST", "/v1/images/generations", body: #"{"prompt": "blue square", "size": "1024x768"}"#)
        XCTAssertEqual(try size.error()["param"] as? String, "size")
    }

    func testOpenAIGenerationReturnsBase64PNGs() throws {
        let live = try startLiveServer()
        let response = try WireClient.request(
            port: live.port, "POST", "/v1/images/generations",
            body: #"{"model": "tiny-class", "prompt": "blue square", "n": 2, "size": "8x8", "response_format": "b64_json", "seed": 5}"#)
        XCTAssertEqual(response.status, 200, response.text)
        let body = try response.json()
        XCTAssertEqual(body["size"] as? String, "8x8")
        XCTAssertEqual(body["output_format"] as? String, "png")
        XCTAssertNotNil(body["created"] as? Int)
        let data = try XCTUnwrap(body["data"] as? [[String: Any]])
        XCTAssertEqual(data.count, 2)
        let images = try data.map { try XCTUnwrap(Data(base64Encoded: try XCTUnwrap($0["b64_json"] as? String))) }
        XCTAssertTrue(images.allSatisfy { isPNG(Array($0)) })
        let usage = try XCTUnwrap(body["usage"] as? [String: Any])
        XCTAssertEqual(usage["output_tokens"] as? Int, 32, "2 images of 4 x 4 tokens")

        // Same seed: same image (image 0 of this request is seed 5, image 1 of the next is seed 5 too).
        let again = try WireClient.request(
            port: live.port, "POST", "/v1/images/generations", body: #"{"prompt": "blue square", "seed": 4, "n": 2}"#
        ).json()
        let againData = try XCTUnwrap(again["data"] as? [[String: Any]])
        XCTAssertEqual(againData[1]["b64_json"] as? String, data[0]["b64_json"] as? String)
    }

    func testOpenAIStreamSendsPartialImagesThenCompleted() throws {
        let live = try startLiveServer()
        let response = try WireClient.request(
            port: live.port, "POST", "/v1/images/generations", headers: [("Accept", "application/json")],
            body: #"{"prompt": "green triangle", "stream": true, "partial_images": 2, "steps": 6}"#)
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.header("Content-Type"), "text/event-stream; charset=utf-8")
        XCTAssertEqual(response.header("X-Accel-Buffering"), "no")
        let events = parseSSE(response.text)
        XCTAssertEqual(events.map(\.event), ["image_generation.partial_image", "image_generation.partial_image", "image_generation.completed"])
        let partials = try events.prefix(2).map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.data.utf8)) as? [String: Any]) }
        XCTAssertEqual(partials.map { $0["partial_image_index"] as? Int }, [0, 1])
        XCTAssertTrue(partials.allSatisfy { $0["type"] as? String == "image_generation.partial_image" })
        let completed = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(events[2].data.utf8)) as? [String: Any])
        XCTAssertTrue(isPNG(Array(try XCTUnwrap(Data(base64Encoded: try XCTUnwrap(completed["b64_json"] as? String))))))
        XCTAssertNotNil(completed["usage"])
    }

    func testJobPNGMultipartSSEAndNDJSON() throws {
        let live = try startLiveServer()
        let png = try WireClient.request(port: live.port, "GET", "/v1/jobs/new?class=blue+square&seed=3")
        XCTAssertEqual(png.status, 200)
        XCTAssertEqual(png.header("Content-Type"), "image/png")
        XCTAssertTrue(isPNG(png.body))
        let jobID = try XCTUnwrap(png.header("X-Job-Id"))

        let status = try WireClient.request(port: live.port, "GET", "/v1/jobs/\(jobID)").json()
        XCTAssertEqual(status["status"] as? String, "succeeded")
        XCTAssertEqual(status["step"] as? Int, 4)
        XCTAssertEqual(status["seed"] as? Int, 3)
        XCTAssertTrue(status.keys.contains("queue_position"))
        let image = try WireClient.request(port: live.port, "GET", "/v1/jobs/\(jobID)/image")
        XCTAssertEqual(image.body, png.body, "the finished job's image, again")

        let multipart = try WireClient.request(port: live.port, "GET", "/v1/jobs/new?class_label=0&seed=3&stream=multipart")
        XCTAssertEqual(multipart.header("Content-Type"), "multipart/x-mixed-replace; boundary=enatframe")
        let text = String(decoding: multipart.body, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("--enatframe\r\nContent-Type: image/png\r\n"))
        XCTAssertTrue(text.hasSuffix("\r\n--enatframe--\r\n"))
        XCTAssertEqual(text.components(separatedBy: "Content-Type: image/png").count - 1, 5, "4 step frames + the final image")

        let sse = try WireClient.request(port: live.port, "GET", "/v1/jobs/new?class_label=2", headers: [("Accept", "text/event-stream")])
        XCTAssertEqual(sse.header("X-Accel-Buffering"), "no")
        let events = parseSSE(sse.text)
        XCTAssertEqual(events.last?.event, "completed")
        let steps = events.filter { $0.event == "progress" }.compactMap { event -> Int? in
            let data = try? JSONSerialization.jsonObject(with: Data(event.data.utf8)) as? [String: Any]
            return data?["image"] != nil ? data?["step"] as? Int : nil
        }
        XCTAssertEqual(steps, [1, 2, 3, 4])

        let chosen = try WireClient.request(
            port: live.port, "GET", "/v1/jobs/new?class_label=2&preview_steps=0,2", headers: [("Accept", "text/event-stream")])
        let framed = parseSSE(chosen.text).filter { $0.event == "progress" }.compactMap { event -> Int? in
            let data = try? JSONSerialization.jsonObject(with: Data(event.data.utf8)) as? [String: Any]
            return data?["image"] != nil ? data?["step"] as? Int : nil
        }
        XCTAssertEqual(framed, [1, 3], "frames only after the chosen 0-based steps")

        let ndjson = try WireClient.request(
            port: live.port, "POST", "/v1/jobs?stream=ndjson", body: #"{"prompt": "red circle", "preview": "mosaic"}"#)
        XCTAssertEqual(ndjson.header("Content-Type"), "application/x-ndjson")
        let lines = ndjson.text.split(separator: "\n")
        let types = lines.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["type"] as? String }
        XCTAssertEqual(types.count, lines.count, "every line is one JSON object")
        XCTAssertEqual(types.last, "completed")
    }

    func testAsyncJobCanBeReattachedAndCancelled() throws {
        // Not started: jobs stay queued, so cancellation is observable.
        let live = try startLiveServer(start: false)
        let created = try WireClient.request(port: live.port, "POST", "/v1/jobs", body: #"{"class": "blue square", "seed": 1}"#)
        XCTAssertEqual(created.status, 202)
        let body = try created.json()
        let id = try XCTUnwrap(body["id"] as? String)
        XCTAssertEqual(created.header("Location"), "/v1/jobs/\(id)")
        XCTAssertEqual(body["status"] as? String, "queued")
        XCTAssertEqual(body["queue_position"] as? Int, 0)

        // A re-attached SSE stream sees the queue position, then the cancellation as an error event.
        let client = try WireClient(port: live.port)
        client.send("GET", "/v1/jobs/\(id)/stream")
        let head = client.read(until: "queue_position")
        XCTAssertTrue(String(decoding: head, as: UTF8.self).contains("event: progress"))
        let cancelled = try WireClient.request(port: live.port, "DELETE", "/v1/jobs/\(id)")
        XCTAssertEqual(cancelled.status, 200)
        let rest = try WireClient.parse(client.read(until: "\r\n0\r\n\r\n", already: head))
        let events = parseSSE(rest.text)
        XCTAssertEqual(events.last?.event, "error")
        XCTAssertTrue(events.last?.data.contains("job_cancelled") ?? false)
        XCTAssertTrue(eventually { (try? WireClient.request(port: live.port, "GET", "/v1/jobs/\(id)").json()["status"] as? String) == "cancelled" })
        let image = try WireClient.request(port: live.port, "GET", "/v1/jobs/\(id)/image")
        XCTAssertEqual(image.status, 410)
    }

    func testDisconnectCancelsTheJobItWatchedAlone() throws {
        let live = try startLiveServer(start: false)
        let client = try WireClient(port: live.port)
        client.send("GET", "/v1/jobs/new?class_label=1&stream=sse")
        let head = String(decoding: client.read(until: "queue_position"), as: UTF8.self)
        let id = try XCTUnwrap(head.components(separatedBy: "X-Job-Id: ").dropFirst().first?.prefix { !$0.isNewline })
        let job = try XCTUnwrap(live.scheduler.job(id: String(id)), head.debugDescription)
        XCTAssertEqual(job.status.state, .queued)
        client.reset()
        XCTAssertTrue(eventually { job.status.state == .cancelled }, "state: \(job.status.state)")
    }

    func testAsyncJobSurvivesADisconnectedWatcher() throws {
        let live = try startLiveServer(start: false)
        let id = try XCTUnwrap(try WireClient.request(port: live.port, "POST", "/v1/jobs", body: #"{"class_label": 1}"#).json()["id"] as? String)
        let client = try WireClient(port: live.port)
        client.send("GET", "/v1/jobs/\(id)/stream?stream=ndjson")
        _ = client.read(until: "queue_position")
        client.reset()
        XCTAssertTrue(eventually { live.api.watchers.watcherCount(id) == 0 })
        XCTAssertEqual(live.scheduler.job(id: id)?.status.state, .queued, "a job created as JSON is not owned by its watchers")
    }

    func testFullQueueAnswers503WithRetryAfter() throws {
        let live = try startLiveServer(scheduler: .init(maxBatchSize: 1, maxQueueLength: 1, blasThreads: 1), start: false)
        XCTAssertEqual(try WireClient.request(port: live.port, "POST", "/v1/jobs", body: #"{"class_label": 1}"#).status, 202)
        let full = try WireClient.request(port: live.port, "POST", "/v1/jobs", body: #"{"class_label": 1}"#)
        XCTAssertEqual(full.status, 503)
        XCTAssertNotNil(full.header("Retry-After").flatMap(Int.init))
        XCTAssertNotNil(full.header("retry-after-ms").flatMap(Int.init))
        XCTAssertEqual(try full.error()["code"] as? String, "queue_full")
        let openAI = try WireClient.request(port: live.port, "POST", "/v1/images/generations", body: #"{"prompt": "blue square"}"#)
        XCTAssertEqual(openAI.status, 503)
        let ready = try WireClient.request(port: live.port, "GET", "/readyz")
        XCTAssertEqual(ready.status, 503)
        XCTAssertNotNil(try ready.json()["reason"] as? String)
    }

    func testDrainingFailsReadiness() throws {
        let live = try startLiveServer()
        XCTAssertTrue(eventually { (try? WireClient.request(port: live.port, "GET", "/readyz").status) == 200 })
        live.api.beginDraining()
        let ready = try WireClient.request(port: live.port, "GET", "/readyz")
        XCTAssertEqual(ready.status, 503)
        XCTAssertTrue((try ready.json()["reason"] as? String)?.contains("draining") ?? false)
    }

    func testCaptionAndClassModelsSideBySide() throws {
        let live = try startLiveServer(models: [try TestModels.classModel(), try TestModels.captionModel()])
        let models = try XCTUnwrap(try WireClient.request(port: live.port, "GET", "/v1/models").json()["data"] as? [[String: Any]])
        XCTAssertEqual(models.map { $0["kind"] as? String }, ["class", "caption"])
        XCTAssertNil(models[1]["classes"], "a caption model has no class list")

        // Without a model: a known class name goes to the class model, anything else is a caption.
        let caption = try WireClient.request(port: live.port, "GET", "/v1/jobs/new?prompt=a+red+circle+on+white&seed=1&steps=2")
        XCTAssertEqual(caption.status, 200, caption.text)
        let captionJob = try XCTUnwrap(caption.header("X-Job-Id"))
        XCTAssertEqual(try WireClient.request(port: live.port, "GET", "/v1/jobs/\(captionJob)").json()["model"] as? String, "tiny-caption")
        let named = try WireClient.request(port: live.port, "GET", "/v1/jobs/new?prompt=blue+square&steps=2")
        let namedJob = try XCTUnwrap(named.header("X-Job-Id"))
        XCTAssertEqual(try WireClient.request(port: live.port, "GET", "/v1/jobs/\(namedJob)").json()["model"] as? String, "tiny-class")

        let openAI = try WireClient.request(
            port: live.port, "POST", "/v1/images/generations", body: #"{"model": "tiny-caption", "prompt": "a green triangle", "steps": 2}"#)
        XCTAssertEqual(openAI.status, 200, openAI.text)
        XCTAssertEqual((try openAI.json()["usage"] as? [String: Any])?["input_tokens"] as? Int, 77)
        let wrong = try WireClient.request(
            port: live.port, "POST", "/v1/images/generations", body: #"{"model": "tiny-caption", "prompt": "x", "class_label": 1}"#)
        XCTAssertEqual(try wrong.error()["param"] as? String, "class_label")
        let empty = try WireClient.request(port: live.port, "POST", "/v1/jobs", body: #"{"model": "tiny-caption", "caption": "  "}"#)
        XCTAssertEqual(try empty.error()["param"] as? String, "caption")
    }

    func testRequestLogLine() throws {
        let lines = LogCapture()
        let live = try startLiveServer { $0.logger = Logger(level: .info) { lines.append($0) } }
        _ = try WireClient.request(port: live.port, "GET", "/v1/models", headers: [("X-Request-Id", "req-123")])
        XCTAssertTrue(eventually { !lines.all.isEmpty })
        let line = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(lines.all[0].utf8)) as? [String: Any])
        XCTAssertEqual(line["request_id"] as? String, "req-123")
        XCTAssertEqual(line["method"] as? String, "GET")
        XCTAssertEqual(line["path"] as? String, "/v1/models")
        XCTAssertEqual(line["status"] as? Int, 200)
        XCTAssertNotNil(line["duration_ms"] as? Double)
    }
}

final class LogCapture: @unchecked Sendable {
    // @unchecked: `lines` is only touched under `lock`.
    private var lines: [String] = []
    private let lock = NSLock()
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}

/// Splits an SSE body into (event, data) pairs; comments are skipped.
func parseSSE(_ text: String) -> [(event: String?, data: String)] {
    text.components(separatedBy: "\n\n").compactMap { block in
        var event: String?
        var data: [String] = []
        for line in block.split(separator: "\n") {
            if line.hasPrefix("event: ") { event = String(line.dropFirst(7)) }
            if line.hasPrefix("data: ") { data.append(String(line.dropFirst(6))) }
        }
        return data.isEmpty ? nil : (event, data.joined(separator: "\n"))
    }
}
