import ENAT
import Foundation
import HTTPServer
import ModelBundle
import Scheduler

/// `POST /v1/images/generations`, as OpenAI's Images API answers it, so the official SDK works
/// with `base_url="http://host:port/v1"`.
extension ImageAPI {
    func generateImages(_ request: HTTPRequest, context: RequestContext, owner: String?) async throws(APIError) -> HTTPResponse {
        let body = try JSON.decodeRequest(ImageGenerationBody.self, from: request)
        return try await respondWithImages(body, events: "image_generation", request: request, context: context, owner: owner)
    }

    /// Validates the OpenAI parameters, submits `n` jobs and answers with their images (JSON or
    /// a stream of `<events>.partial_image` / `<events>.completed`). `edit` makes the source
    /// image of an edit for the resolved model. Every parameter either acts as OpenAI's does or
    /// is a 400 naming it (README: "OpenAI parameters").
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
        var output = try OutputImageFormat(format: body.outputFormat, compression: body.outputCompression)
        guard ["auto", "opaque"].contains(body.background ?? "auto") else {
            throw APIError.invalid(
                "background",
                "The model makes opaque images (no alpha channel): 'background' must be 'auto' or 'opaque'; got '\(body.background ?? "")'.")
        }
        let quality = try ImageQuality(parsing: body.quality)
        let partialImages = body.partialImages ?? 0
        guard (0...3).contains(partialImages) else {
            throw APIError.invalid("partial_images", "'partial_images' must be between 0 and 3; got \(partialImages).")
        }
        // No moderation runs here (the models draw shapes, classes or captions of a closed
        // vocabulary); OpenAI's values are accepted so that clients sending them work.
        if let moderation = body.moderation, !["auto", "low"].contains(moderation) {
            throw APIError.invalid("moderation", "'moderation' must be 'auto' or 'low'; got '\(moderation)'.")
        }
        if let style = body.style, !["vivid", "natural"].contains(style) {
            throw APIError.invalid("style", "'style' must be 'vivid' or 'natural'; got '\(style)'.")
        }
        var resolved = try GenerationParameters(body).resolve(models: scheduler.models, configuration: configuration)
        if body.sampling.steps == nil {
            let maxSteps = SamplerLimits.engine.narrowed(maxSteps: configuration.maxSteps).steps.upperBound
            resolved.settings.steps = quality.steps(default: resolved.settings.steps, maxSteps: maxSteps)
        }
        let side = resolved.model.imageSize
        output.side = try OutputImageFormat.side(body.size, modelSide: side, model: resolved.model.id)
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
        let tokenCount = resolved.model.configuration.transformer.tokenCount
        let shape = ImageShape(
            events: events, model: resolved.model.id, modelSide: side, output: output, quality: quality.reported.rawValue,
            usage: ImageUsage(
                textTokens: resolved.promptTokens, imageTokens: imageEdit == nil ? 0 : tokenCount, outputTokens: tokenCount),
            safetyIdentifier: [body.safetyIdentifier, body.user].compactMap { $0 }.first { !$0.isEmpty })
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
        /// The side of the model's square images.
        var modelSide: Int
        /// Format, compression and delivered size.
        var output: OutputImageFormat
        var quality: String
        /// Usage of one image.
        var usage: ImageUsage
        /// OpenAI's effective safety identifier: `safety_identifier`, else `user` (echoed, not used).
        var safetyIdentifier: String?

        /// The delivered size, as `size` reports it.
        var size: String { output.size(modelSide: modelSide) }

        /// `X-Image-Size` and `X-Model-Image-Size` (different when the images are resampled).
        var headers: [(String, String)] { JobResponder.sizeHeaders(output, modelSide: modelSide) }
    }

    /// The 0-based steps whose preview becomes a partial image: evenly spread, never the last
    /// step (its image is the completed one). With fewer steps than `count + 1` some coincide,
    /// so the completed event follows fewer partial images (OpenAI's API says it may, too).
    static func partialImageSteps(count: Int, steps: Int) -> Set<Int> {
        guard count > 0, steps > 1 else { return [] }
        return Set(
            (1...count).map { index in
                min(steps - 2, max(0, Int((Double(index * steps) / Double(count + 1)).rounded()) - 1))
            })
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
        var data: [ImagesResponseBody.Image] = []
        for (job, result) in zip(jobs, images) {
            if let base {
                // The job's image route serves the same format and size (`OutputImageFormat.query`).
                data.append(ImagesResponseBody.Image(url: "\(base)/v1/jobs/\(job.id)/image\(shape.output.query)", seed: result.seed))
                continue
            }
            do {
                let image = try await JobResponder.finalImage(result, request: job.request, models: models, output: shape.output)
                data.append(ImagesResponseBody.Image(b64Json: Data(image).base64EncodedString(), seed: result.seed))
            } catch {
                return error.response
            }
        }
        let body = ImagesResponseBody(
            created: Int(Date().timeIntervalSince1970), data: data, model: shape.model, outputFormat: shape.output.name,
            quality: shape.quality, safetyIdentifier: shape.safetyIdentifier, size: shape.size, usage: shape.usage.times(jobs.count))
        return Self.json(body, headers: (jobs.count == 1 ? [("X-Job-Id", jobs[0].id)] : []) + shape.headers)
    }

    private func streamImages(_ jobs: [GenerationJob], watches: [JobWatchers.Watch], shape: ImageShape, context: RequestContext) -> HTTPResponse {
        let headers = HTTPHeaders(
            [
                ("Content-Type", ServerSentEvents.contentType), ("Cache-Control", "no-cache, no-store, no-transform"),
                ("X-Accel-Buffering", "no"),
            ] + shape.headers)
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
                            // A frame that cannot be encoded is skipped, as a dropped one is.
                            guard let png = progress.previewPNG, let frame = try? await shape.output.encoded(png: png) else { continue }
                            let event = PartialImageEvent(
                                type: shape.events + ".partial_image", b64Json: Data(frame).base64EncodedString(), createdAt: now,
                                outputFormat: shape.output.name, partialImageIndex: partialIndex[index],
                                quality: shape.quality, size: shape.size, imageIndex: index, seed: jobs[index].request.seed)
                            partialIndex[index] += 1
                            try await send(event.type, JSON.encodeString(event))
                        case .event(let index, .completed(let result)):
                            let image: [UInt8]
                            do throws(APIError) {
                                image = try await JobResponder.finalImage(
                                    result, request: jobs[index].request, models: models, output: shape.output)
                            } catch {
                                await fail(error)
                                return
                            }
                            let event = CompletedImageEvent(
                                type: shape.events + ".completed", b64Json: Data(image).base64EncodedString(), createdAt: now,
                                outputFormat: shape.output.name, quality: shape.quality, size: shape.size, usage: shape.usage,
                                imageIndex: index, seed: result.seed, model: shape.model)
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
