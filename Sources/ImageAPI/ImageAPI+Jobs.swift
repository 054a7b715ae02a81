import HTTPServer
import ModelBundle
import Scheduler

/// Jobs, for people and browsers: create (JSON, a multipart form, or a GET query for `<img src>`;
/// the first two may carry an edit), look up, fetch the PNG, re-attach to the progressive
/// stream, cancel.
extension ImageAPI {
    /// `POST /v1/jobs`: answers the job's JSON (202, `Location`), or, when `?stream=` or `Accept`
    /// asks for it, the PNG or a stream of this new job.
    func createJob(_ request: HTTPRequest, context: RequestContext, owner: String?) async throws(APIError) -> HTTPResponse {
        let format = try StreamFormat.negotiate(request, fallback: nil)
        for item in request.queryItems where item.name != "stream" {
            throw APIError.invalid(
                item.name, "Unrecognized query parameter: \(item.name); send parameters in the JSON body.", code: "unknown_parameter")
        }
        // JSON, or a form: an edit's image and mask come as base64 in the one, as files in the other.
        let submission = try JobSubmission(request, configuration: configuration)
        let output = try OutputImageFormat(format: submission.body.outputFormat, compression: submission.body.outputCompression)
        return try await startJob(
            try GenerationParameters(submission.body), edit: submission.edit, format: format, output: output, owner: owner, context: context)
    }

    /// `GET /v1/jobs/new?model=..&class=..&seed=..`: the same as `POST /v1/jobs`, for `<img src>`;
    /// answers the PNG unless `?stream=` or `Accept` asks for a stream (or JSON).
    func createJobFromQuery(_ request: HTTPRequest, context: RequestContext, owner: String?) async throws(APIError) -> HTTPResponse {
        let format = try StreamFormat.negotiate(request, fallback: .png)
        let body = try JobBody(query: request.queryItems.map { ($0.name, $0.value) })
        let output = try OutputImageFormat(format: body.outputFormat, compression: body.outputCompression)
        return try await startJob(try GenerationParameters(body), format: format, output: output, owner: owner, context: context)
    }

    private func startJob(
        _ parameters: GenerationParameters, edit: EditInputs? = nil, format: StreamFormat?, output: OutputImageFormat, owner: String?,
        context: RequestContext
    ) async throws(APIError) -> HTTPResponse {
        let resolved = try parameters.resolve(models: scheduler.models, configuration: configuration)
        let uploadLimits = configuration.uploadLimits
        let imageEdit = try edit.map { (inputs) throws(APIError) in try Self.imageEdit(inputs, for: resolved.model, limits: uploadLimits) }
        // Streams show every step decoded unless told otherwise; a PNG answer needs no frames; a job
        // answered as JSON keeps cheap mosaic frames for whoever re-attaches to its stream later.
        let preview: PreviewMode
        switch format {
        case .multipart, .sse, .ndjson: preview = resolved.preview ?? .full
        case .png: preview = resolved.preview ?? .none
        case nil: preview = resolved.preview ?? .mosaic
        }
        let job = try submitAll([
            resolved.request(
                index: 0, preview: preview, previewSteps: resolved.previewSteps, deadline: requestDeadline, owner: owner, edit: imageEdit)
        ])[0]
        logJob(job)
        guard let format else {
            return Self.json(
                JobStatusBody(job: job, output: output), status: .accepted, headers: [("Location", "/v1/jobs/\(job.id)"), ("X-Job-Id", job.id)])
        }
        let watch = watchers.watch(job, owning: true)
        if format == .png { return await responder.image(job, output: output, watch: watch, context: context) }
        return responder.stream(job, format: format, output: output, watch: watch, context: context)
    }

    /// The job `id` if `owner` may see it: with API keys, only the key that created a job sees
    /// it; to anyone else it does not exist.
    func job(_ id: String, owner: String?) throws(APIError) -> GenerationJob {
        guard let job = scheduler.job(id: id), job.request.owner == owner else {
            throw APIError.notFound("No job '\(id)' (finished jobs are kept for a while, then forgotten).", param: "id", code: "job_not_found")
        }
        return job
    }

    func jobStatus(_ id: String, owner: String?) throws(APIError) -> HTTPResponse {
        Self.json(JobStatusBody(job: try job(id, owner: owner)))
    }

    /// `DELETE /v1/jobs/{id}`: cancels (it stops at the next step boundary) and answers its status.
    func cancelJob(_ id: String, owner: String?) throws(APIError) -> HTTPResponse {
        let job = try job(id, owner: owner)
        job.cancel()
        return Self.json(JobStatusBody(job: job))
    }

    /// `GET /v1/jobs/{id}/image`: waits for the image (PNG at the model's size unless
    /// `?output_format=`, `output_compression=` or `size=` ask otherwise).
    func jobImage(_ id: String, owner: String?, request: HTTPRequest, context: RequestContext) async throws(APIError) -> HTTPResponse {
        let job = try job(id, owner: owner)
        let output = try outputFormat(of: job, query: request)
        return await responder.image(job, output: output, watch: watchers.watch(job, owning: false), context: context)
    }

    /// The output a job route's query asks for (`OutputImageFormat(query:)`).
    private func outputFormat(of job: GenerationJob, query request: HTTPRequest) throws(APIError) -> OutputImageFormat {
        let side = loadedModel(job.request.model)?.imageSize ?? 0
        return try OutputImageFormat(query: request.queryItems.map { ($0.name, $0.value) }, modelSide: side, model: job.request.model)
    }

    /// `GET /v1/jobs/{id}/stream`: re-attaches (past events are replayed); SSE unless asked otherwise.
    /// `?stream=png` (or `Accept: image/png`) waits for the PNG like `/image`.
    func jobStream(_ id: String, owner: String?, request: HTTPRequest, context: RequestContext) async throws(APIError) -> HTTPResponse {
        let job = try job(id, owner: owner)
        let format = try StreamFormat.negotiate(request, fallback: .sse) ?? .sse
        let output = try outputFormat(of: job, query: request)
        let watch = watchers.watch(job, owning: false)
        if format == .png { return await responder.image(job, output: output, watch: watch, context: context) }
        return responder.stream(job, format: format, output: output, watch: watch, context: context)
    }
}
