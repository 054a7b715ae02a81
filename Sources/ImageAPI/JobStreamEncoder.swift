import Foundation
import Scheduler

/// Turns job events into the bytes of one stream format. Stateful only in that multipart has
/// an opening delimiter and SSE progress carries the last known step.
struct JobStreamEncoder: Sendable {
    let format: StreamFormat
    let jobID: String
    /// The model the job runs on (told in the completed event).
    let model: String
    /// The format of frames and the final image (multipart parts, the base64 `image` fields).
    let output: OutputImageFormat
    /// The final image as answered: the PNG with its `parameters` text chunk, or `output`'s encoding.
    let finalImage: @Sendable (GenerationResult) throws(APIError) -> [UInt8]
    private var step = 0
    private var steps = 0

    init(
        format: StreamFormat, jobID: String, steps: Int, model: String = "", output: OutputImageFormat = .png,
        finalImage: @escaping @Sendable (GenerationResult) throws(APIError) -> [UInt8] = { $0.png }
    ) {
        self.format = format
        self.jobID = jobID
        self.steps = steps
        self.model = model
        self.output = output
        self.finalImage = finalImage
    }

    /// What opens the body: multipart's first delimiter; for SSE a comment, so a client sees
    /// the stream is live before the first step.
    func opening() -> [UInt8] {
        switch format {
        case .multipart: return MultipartFraming.opening
        case .sse: return Array(ServerSentEvents.comment("job \(jobID)").utf8)
        case .ndjson, .png: return []
        }
    }

    func ping() -> [UInt8] {
        format == .sse ? Array(ServerSentEvents.comment("ping").utf8) : []
    }

    mutating func encode(_ event: GenerationEvent) -> [UInt8] {
        switch event {
        case .queued(let position):
            return progress(ProgressBody(jobID: jobID, state: "queued", step: step, steps: steps, queuePosition: position))
        case .started:
            return progress(ProgressBody(jobID: jobID, state: "running", step: step, steps: steps, queuePosition: nil))
        case .step(let progress):
            step = progress.step
            steps = progress.steps
            // A frame that cannot be encoded is skipped like a dropped one; the final image says why.
            let frame = progress.previewPNG.flatMap { try? output.encode(png: $0) }
            if format == .multipart {
                guard let frame else { return [] }
                return MultipartFraming.part(contentType: output.contentType, body: frame, last: false)
            }
            return self.progress(
                ProgressBody(
                    jobID: jobID, state: "running", step: progress.step, steps: progress.steps, queuePosition: nil,
                    revealed: progress.revealed, tokenCount: progress.tokenCount,
                    image: frame.map { Data($0).base64EncodedString() }))
        case .completed(let result):
            let image: [UInt8]
            do {
                image = try finalImage(result)
            } catch {
                return self.error(error)
            }
            if format == .multipart { return MultipartFraming.part(contentType: output.contentType, body: image, last: true) }
            let body = CompletedBody(
                jobID: jobID, model: model, seed: result.seed, steps: steps, queueSeconds: result.queueSeconds,
                runSeconds: result.runSeconds, image: Data(image).base64EncodedString())
            return frame("completed", JSON.encodeString(body))
        case .failed(let failure):
            return error(.generation(failure))
        }
    }

    /// An error inside the stream: SSE `event: error`, an NDJSON error line, or a final JSON part.
    func error(_ error: APIError) -> [UInt8] {
        let body = StreamErrorBody(jobID: jobID, error: error.body.error)
        if format == .multipart {
            return MultipartFraming.part(contentType: "application/json", body: JSON.encode(body), last: true)
        }
        return frame("error", JSON.encodeString(body))
    }

    private func progress(_ body: ProgressBody) -> [UInt8] {
        format == .multipart ? [] : frame("progress", JSON.encodeString(body))
    }

    private func frame(_ event: String, _ json: String) -> [UInt8] {
        switch format {
        case .sse: return Array(ServerSentEvents.event(event, data: json).utf8)
        case .ndjson: return Array(NDJSONFraming.line(json).utf8)
        case .multipart, .png: return []
        }
    }
}
