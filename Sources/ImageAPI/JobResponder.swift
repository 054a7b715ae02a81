import Foundation
import HTTPServer
import Scheduler

/// Answers one job as a progressive stream (multipart PNG frames, SSE or NDJSON) or, waiting,
/// as one PNG.
struct JobResponder: Sendable {
    let watchers: JobWatchers
    let pingInterval: Duration
    let metrics: HTTPMetrics

    /// Headers every stream carries: no caching or transformation, no proxy buffering (nginx
    /// honours `X-Accel-Buffering`), and the job id.
    static func streamHeaders(contentType: String, job: GenerationJob) -> HTTPHeaders {
        HTTPHeaders([
            ("Content-Type", contentType), ("Cache-Control", "no-cache, no-store, no-transform"),
            ("X-Accel-Buffering", "no"), ("X-Job-Id", job.id),
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
        return HTTPResponse(status: .ok, headers: Self.streamHeaders(contentType: contentType, job: job), body: .stream { writer in
            metrics.streamOpened()
            defer { metrics.streamClosed() }
            let items = JobEventMerger.merge(
                [job], pingInterval: format == .sse ? pingInterval : nil, context: context, onFrameDropped: metrics.frameDropped)
            var encoder = JobStreamEncoder(format: format, jobID: job.id, steps: job.request.settings.steps)
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
                return APIError(status: HTTPStatus(code: 499, reasonPhrase: "Client Closed Request"), message: "The client went away.", type: "invalid_request_error", code: "client_closed").response
            case .ping:
                continue
            case .event(_, .completed(let result)):
                watch.end(disconnected: false)
                var headers = HTTPHeaders([("Content-Type", "image/png"), ("X-Job-Id", job.id), ("X-Seed", String(result.seed))])
                headers.add(name: "Cache-Control", value: "no-store")
                return HTTPResponse(status: .ok, headers: headers, body: .bytes(result.png))
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
