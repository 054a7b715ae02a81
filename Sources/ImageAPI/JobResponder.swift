import ENAT
import Foundation
import HTTPServer
import ModelBundle
import Scheduler

/// Answers one job as a progressive stream (multipart PNG frames, SSE or NDJSON) or, waiting,
/// as one PNG.
struct JobResponder: Sendable {
    let watchers: JobWatchers
    let pingInterval: Duration
    let metrics: HTTPMetrics
    /// The loaded models, to write each image's generation parameters into its PNG.
    let models: [LoadedModel]

    /// The final PNG as answered: with a `parameters` text chunk holding everything that made it.
    static func finalPNG(_ result: GenerationResult, request: GenerationRequest, models: [LoadedModel]) -> [UInt8] {
        guard let model = models.first(where: { $0.id == request.model }) else { return result.png }
        return model.annotate(result.png, condition: request.condition, settings: request.settings, seed: result.seed)
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

    /// `watch` must already be registered; this response ends it.
    func stream(_ job: GenerationJob, format: StreamFormat, watch: JobWatchers.Watch, context: RequestContext) -> HTTPResponse {
        let contentType: String
        switch format {
        case .png: preconditionFailure("png is answered by `image`")
        case .multipart: contentType = MultipartFraming.contentType
        case .sse: contentType = ServerSentEvents.contentType
        case .ndjson: contentType = NDJSONFraming.contentType
        }
        let pingInterval = self.pingInterval
        let metrics = self.metrics
        return HTTPResponse(
            status: .ok, headers: Self.streamHeaders(contentType: contentType, job: job),
            body: .stream { writer in
                metrics.streamOpened()
                defer { metrics.streamClosed() }
                let items = JobEventMerger.merge(
                    [job], pingInterval: format == .sse ? pingInterval : nil, context: context, onFrameDropped: metrics.frameDropped)
                let models = self.models
                var encoder = JobStreamEncoder(
                    format: format, jobID: job.id, steps: job.request.settings.steps, model: job.request.model,
                    finalPNG: { Self.finalPNG($0, request: job.request, models: models) })
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

    /// Waits for the job and answers its PNG, or its failure as a JSON error.
    func image(_ job: GenerationJob, watch: JobWatchers.Watch, context: RequestContext) async -> HTTPResponse {
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
                var headers = HTTPHeaders([
                    ("Content-Type", "image/png"), ("X-Job-Id", job.id), ("X-Model", job.request.model), ("X-Seed", String(result.seed)),
                ])
                headers.add(name: "Cache-Control", value: "no-store")
                return HTTPResponse(status: .ok, headers: headers, body: .bytes(Self.finalPNG(result, request: job.request, models: models)))
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
