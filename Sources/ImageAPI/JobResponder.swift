import ENAT
import Foundation
import HTTPServer
import ModelBundle
import Scheduler

/// Answers one job as a progressive stream (multipart image frames, SSE or NDJSON) or, waiting,
/// as one image (PNG unless an `OutputImageFormat` says otherwise).
struct JobResponder: Sendable {
    let watchers: JobWatchers
    let pingInterval: Duration
    let metrics: HTTPMetrics
    /// The loaded models, to write each image's generation parameters into its PNG.
    let models: [LoadedModel]

    /// The final image as answered, in `output`: with everything that made it (a PNG
    /// `parameters` text chunk or a JPEG comment).
    static func finalImage(
        _ result: GenerationResult, request: GenerationRequest, models: [LoadedModel], output: OutputImageFormat
    ) throws(APIError) -> [UInt8] {
        let model = models.first { $0.id == request.model }
        let parameters = model?.parametersText(condition: request.condition, settings: request.settings, seed: result.seed)
        return try output.encode(png: result.png, parameters: parameters)
    }

    /// `finalImage`, re-encoded off the cooperative pool (`OutputImageFormat.encoded`).
    static func finalImage(
        _ result: GenerationResult, request: GenerationRequest, models: [LoadedModel], output: OutputImageFormat
    ) async throws(APIError) -> [UInt8] {
        let model = models.first { $0.id == request.model }
        let parameters = model?.parametersText(condition: request.condition, settings: request.settings, seed: result.seed)
        return try await output.encoded(png: result.png, parameters: parameters)
    }

    /// The delivered size and the model's (`X-Image-Size`, `X-Model-Image-Size`): they differ
    /// when the image was resampled to the size the request asked for.
    static func sizeHeaders(_ output: OutputImageFormat, modelSide: Int) -> [(String, String)] {
        guard modelSide > 0 else { return [] }
        return [("X-Image-Size", output.size(modelSide: modelSide)), ("X-Model-Image-Size", "\(modelSide)x\(modelSide)")]
    }

    private func modelSide(_ job: GenerationJob) -> Int {
        models.first { $0.id == job.request.model }?.imageSize ?? 0
    }

    /// Headers every stream carries: no caching or transformation, no proxy buffering (nginx
    /// honours `X-Accel-Buffering`), and the job id.
    static func streamHeaders(contentType: String, job: GenerationJob) -> HTTPHeaders {
        HTTPHeaders([
            ("Content-Type", contentType), ("Cache-Control", "no-cache, no-store, no-transform"),
            ("X-Accel-Buffering", "no"), ("X-Job-Id", job.id), ("X-Model", job.request.model),
            ("X-Seed", String(job.request.seed)),
        ])
    }

    /// `watch` must already be registered; this response ends it. Frames and the final image
    /// are encoded in `output`.
    func stream(
        _ job: GenerationJob, format: StreamFormat, output: OutputImageFormat = .png, watch: JobWatchers.Watch, context: RequestContext
    ) -> HTTPResponse {
        let contentType: String
        switch format {
        case .png: preconditionFailure("png is answered by `image`")
        case .multipart: contentType = MultipartFraming.contentType
        case .sse: contentType = ServerSentEvents.contentType
        case .ndjson: contentType = NDJSONFraming.contentType
        }
        let pingInterval = self.pingInterval
        let metrics = self.metrics
        var headers = Self.streamHeaders(contentType: contentType, job: job)
        for (name, value) in Self.sizeHeaders(output, modelSide: modelSide(job)) { headers.add(name: name, value: value) }
        return HTTPResponse(
            status: .ok, headers: headers,
            body: .stream { writer in
                metrics.streamOpened()
                defer { metrics.streamClosed() }
                let items = JobEventMerger.merge(
                    [job], pingInterval: format == .sse ? pingInterval : nil, context: context, onFrameDropped: metrics.frameDropped)
                let models = self.models
                var encoder = JobStreamEncoder(
                    format: format, jobID: job.id, steps: job.request.settings.steps, model: job.request.model, output: output,
                    finalImage: { (result) throws(APIError) in
                        try Self.finalImage(result, request: job.request, models: models, output: output)
                    })
                do {
                    try await writer.write(encoder.opening())
                    for await item in items {
                        switch item {
                        case .clientGone:
                            watch.end(disconnected: true)
                            return
                        case .ping:
                            try await writer.write(encoder.ping())
                        case .event(_, let event):
                            try await writer.write(encoder.encode(event))
                            if event.isTerminal {
                                watch.end(disconnected: false)
                                return
                            }
                        }
                    }
                    // Not terminal: the server is shutting down past its deadline. Say so and end cleanly.
                    if Task.isCancelled { try? await writer.write(encoder.error(.shuttingDown())) }
                    watch.end(disconnected: !writer.isClientConnected)
                } catch {
                    watch.end(disconnected: true)
                }
            })
    }

    /// Waits for the job and answers its image in `output`, or its failure as a JSON error.
    func image(_ job: GenerationJob, output: OutputImageFormat = .png, watch: JobWatchers.Watch, context: RequestContext) async -> HTTPResponse {
        let items = JobEventMerger.merge([job], pingInterval: nil, context: context)
        for await item in items {
            switch item {
            case .clientGone:
                watch.end(disconnected: true)
                return APIError(
                    status: HTTPStatus(code: 499, reasonPhrase: "Client Closed Request"), message: "The client went away.",
                    type: "invalid_request_error", code: "client_closed"
                ).response
            case .ping:
                continue
            case .event(_, .completed(let result)):
                watch.end(disconnected: false)
                let image: [UInt8]
                do {
                    image = try await Self.finalImage(result, request: job.request, models: models, output: output)
                } catch {
                    return error.response
                }
                var headers = HTTPHeaders([
                    ("Content-Type", output.contentType), ("X-Job-Id", job.id), ("X-Model", job.request.model),
                    ("X-Seed", String(result.seed)),
                ])
                for (name, value) in Self.sizeHeaders(output, modelSide: modelSide(job)) { headers.add(name: name, value: value) }
                headers.add(name: "Cache-Control", value: "no-store")
                return HTTPResponse(status: .ok, headers: headers, body: .bytes(image))
            case .event(_, .failed(let failure)):
                watch.end(disconnected: false)
                return APIError.generation(failure).response
            case .event:
                continue
            }
        }
        watch.end(disconnected: !context.isClientConnected)
        return APIError.shuttingDown().response
    }
}
