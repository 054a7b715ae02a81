import ENAT
import Foundation
import HTTPServer
import ModelBundle
import Scheduler

/// `POST /v1/images/generations`, as OpenAI's Images API answers it, so the official SDK works
/// with `base_url="http://host:port/v1"`.
extension ImageAPI {
    /// OpenAI's quality values; we always run the model's full sampler and echo the request's choice.
    static let qualities: Set<String> = ["auto", "low", "medium", "high", "xhigh", "max", "standard", "hd"]

    func generateImages(_ request: HTTPRequest, context: RequestContext, owner: String?) async throws(APIError) -> HTTPResponse {
        let body = try JSON.decodeRequest(ImageGenerationBody.self, from: request)
        return try await respondWithImages(body, events: "image_generation", request: request, context: context, owner: owner)
    }

    /// Validates the OpenAI parameters, submits `n` jobs and answers with their images (JSON or
    /// a stream of `<events>.partial_image` / `<events>.completed`). `edit` makes the source
    /// image of an edit for the resolved model.
    func respondWithImages(
        _ body: ImageGenerationBody, events: String, request: HTTPRequest, context: RequestContext, owner: String?,
        edit: ((LoadedModel) throws(APIError) -> ImageEdit)? = nil
    ) async throws(APIError) -> HTTPResponse {
        if body.prompt == nil && body.sampling.classLabel == nil {
            throw APIError.invalid("prompt", "Missing required parameter: 'prompt'.", code: "missing_required_parameter")
        }
        let n = body.n ?? 1
        guard (1...configuration.maxImagesPerRequest).contains(n) else {
            throw APIError.invalid("n", "'n' must be between 1 and \(configuration.maxImagesPerRequest); got \(n).")
        }
        let responseFormat = body.responseFormat ?? "b64_json"
        guard ["b64_json", "url"].contains(responseFormat) else {
            throw APIError.invalid("response_format", "'response_format' must be 'b64_json' or 'url'; got '\(responseFormat)'.")
        }
        guard (body.outputFormat ?? "png") == "png" else {
            throw APIError.invalid("output_format", "Only 'png' output is supported; got '\(body.outputFormat ?? "")'.")
        }
        guard ["auto", "opaque"].contains(body.background ?? "auto") else {
            throw APIError.invalid("background", "Only opaque backgrounds are supported ('auto' or 'opaque'); got '\(body.background ?? "")'.")
        }
        if let quality = body.quality, !Self.qualities.contains(quality) {
            throw APIError.invalid("quality", "'quality' must be one of \(Self.qualities.sorted().joined(separator: ", ")); got '\(quality)'.")
        }
        let partialImages = body.partialImages ?? 0
        guard (0...3).contains(partialImages) else {
            throw APIError.invalid("partial_images", "'partial_images' must be between 0 and 3; got \(partialImages).")
        }
        if let compression = body.outputCompression, !(0...100).contains(compression) {
            throw APIError.invalid("output_compression", "'output_compression' must be between 0 and 100; got \(compression).")
        }
        if let moderation = body.moderation, !["auto", "low"].contains(moderation) {
            throw APIError.invalid("moderation", "'moderation' must be 'auto' or 'low'; got '\(moderation)'.")
        }
        if let style = body.style, !["vivid", "natural"].contains(style) {
            throw APIError.invalid("style", "'style' must be 'vivid' or 'natural'; got '\(style)'.")
        }
        let resolved = try GenerationParameters(body).resolve(models: scheduler.models, configuration: configuration)
        let side = resolved.model.imageSize
        let size = "\(side)x\(side)"
        if let requested = body.size, requested != "auto", requested != size {
            throw APIError.invalid(
                "size", "Model '\(resolved.model.id)' makes \(size) images; 'size' must be '\(size)' or 'auto', got '\(requested)'.")
        }
        let imageEdit = try edit?(resolved.model)
        let stream = body.stream ?? false
        let preview = stream ? (resolved.preview ?? (partialImages > 0 ? .full : .none)) : .none
        let steps = Self.partialImageSteps(count: partialImages, steps: resolved.settings.steps)
        let deadline = requestDeadline
        let requests = (0..<n).map {
            resolved.request(index: $0, preview: preview, previewSteps: steps, deadline: deadline, owner: owner, edit: imageEdit)
        }
        let jobs = try submitAll(requests)
        for job in jobs { logJob(job) }
        let watches = jobs.map { watchers.watch($0, owning: true) }
        let shape = ImageShape(
            events: events, model: resolved.model.id, size: size, quality: Self.reportedQuality(body.quality),
            usage: ImageUsage(inputTokens: resolved.promptTokens, outputTokens: resolved.model.configuration.transformer.tokenCount))
        if stream {
            return streamImages(jobs, watches: watches, shape: shape, context: context)
        }
        let base = responseFormat == "url" ? publicBaseURL(request, context: context) : nil
        return await waitForImages(jobs, watches: watches, shape: shape, urls: base, context: context)
    }

    /// What every image of one request shares in its JSON.
    struct ImageShape: Sendable {
        /// The stream's event family: `image_generation` or `image_edit`.
        var events: String
        var model: String
        var size: String
        var quality: String
        /// Usage of one image.
        var usage: ImageUsage
    }

    /// The 0-based steps whose preview becomes a partial image: evenly spread, never the last
    /// step (its image is the completed one).
    static func partialImageSteps(count: Int, steps: Int) -> Set<Int> {
        guard count > 0, steps > 1 else { return [] }
        return Set(
            (1...count).map { index in
                min(steps - 2, max(0, Int((Double(index * steps) / Double(count + 1)).rounded()) - 1))
            })
    }

    /// The quality reported back: the request's, where the SDK's response model knows it.
    static func reportedQuality(_ requested: String?) -> String {
        guard let requested, ["low", "medium", "high", "xhigh", "max"].contains(requested) else { return "high" }
        return requested
    }

    private func waitForImages(
        _ jobs: [GenerationJob], watches: [JobWatchers.Watch], shape: ImageShape, urls base: String?, context: RequestContext
    ) async -> HTTPResponse {
        var results = [GenerationResult?](repeating: nil, count: jobs.count)
        for await item in JobEventMerger.merge(jobs, pingInterval: nil, context: context) {
            switch item {
            case .clientGone:
                for watch in watches { watch.end(disconnected: true) }
                return APIError(
                    status: HTTPStatus(code: 499, reasonPhrase: "Client Closed Request"), message: "The client went away.",
                    type: "invalid_request_error", code: "client_closed"
                ).response
            case .event(let index, .completed(let result)):
                results[index] = result
                watches[index].end(disconnected: false)
            case .event(_, .failed(let failure)):
                // One image failed: the request fails, so the others are not wanted either.
                for job in jobs { job.cancel() }
                for watch in watches { watch.end(disconnected: false) }
                return APIError.generation(failure).response
            case .event, .ping:
                continue
            }
        }
        for watch in watches { watch.end(disconnected: false) }
        let images = results.compactMap { $0 }
        guard images.count == jobs.count else { return APIError.shuttingDown().response }
        let models = scheduler.models
        let data = zip(jobs, images).map { job, result in
            base.map { ImagesResponseBody.Image(url: "\($0)/v1/jobs/\(job.id)/image", seed: result.seed) }
                ?? ImagesResponseBody.Image(
                    b64Json: Data(JobResponder.finalPNG(result, request: job.request, models: models)).base64EncodedString(),
                    seed: result.seed)
        }
        let usage = ImageUsage(inputTokens: shape.usage.inputTokens, outputTokens: shape.usage.outputTokens * jobs.count)
        let body = ImagesResponseBody(
            created: Int(Date().timeIntervalSince1970), data: data, model: shape.model, quality: shape.quality, size: shape.size, usage: usage)
        return Self.json(body, headers: jobs.count == 1 ? [("X-Job-Id", jobs[0].id)] : [])
    }

    private func streamImages(_ jobs: [GenerationJob], watches: [JobWatchers.Watch], shape: ImageShape, context: RequestContext) -> HTTPResponse {
        let headers = HTTPHeaders([
            ("Content-Type", ServerSentEvents.contentType), ("Cache-Control", "no-cache, no-store, no-transform"),
            ("X-Accel-Buffering", "no"),
        ])
        let pingInterval = configuration.pingInterval
        let metrics = self.metrics
        let models = scheduler.models
        return HTTPResponse(
            status: .ok, headers: headers,
            body: .stream { writer in
                metrics.streamOpened()
                defer { metrics.streamClosed() }
                func send(_ event: String, _ json: String) async throws(ResponseWriteError) {
                    try await writer.write(ServerSentEvents.event(event, data: json))
                }
                func fail(_ error: APIError) async {
                    for job in jobs { job.cancel() }
                    for watch in watches { watch.end(disconnected: false) }
                    try? await send("error", JSON.encodeString(StreamErrorBody(error: error.body.error)))
                }
                var partialIndex = [Int](repeating: 0, count: jobs.count)
                do {
                    for await item in JobEventMerger.merge(
                        jobs, pingInterval: pingInterval, context: context, onFrameDropped: metrics.frameDropped)
                    {
                        let now = Int(Date().timeIntervalSince1970)
                        switch item {
                        case .clientGone:
                            for watch in watches { watch.end(disconnected: true) }
                            return
                        case .ping:
                            try await writer.write(ServerSentEvents.comment("ping"))
                        case .event(let index, .step(let progress)):
                            guard let png = progress.previewPNG else { continue }
                            let event = PartialImageEvent(
                                type: shape.events + ".partial_image", b64Json: Data(png).base64EncodedString(), createdAt: now,
                                partialImageIndex: partialIndex[index],
                                quality: shape.quality, size: shape.size, imageIndex: index, seed: jobs[index].request.seed)
                            partialIndex[index] += 1
                            try await send(event.type, JSON.encodeString(event))
                        case .event(let index, .completed(let result)):
                            let png = JobResponder.finalPNG(result, request: jobs[index].request, models: models)
                            let event = CompletedImageEvent(
                                type: shape.events + ".completed", b64Json: Data(png).base64EncodedString(), createdAt: now, quality: shape.quality,
                                size: shape.size, usage: shape.usage, imageIndex: index, seed: result.seed, model: shape.model)
                            watches[index].end(disconnected: false)
                            try await send(event.type, JSON.encodeString(event))
                        case .event(_, .failed(let failure)):
                            await fail(.generation(failure))
                            return
                        case .event:
                            continue
                        }
                    }
                    if Task.isCancelled { await fail(.shuttingDown()) }
                    for watch in watches { watch.end(disconnected: !writer.isClientConnected) }
                } catch {
                    for watch in watches { watch.end(disconnected: true) }
                }
            })
    }
}
