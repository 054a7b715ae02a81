import DurationSeconds
import Foundation
import HTTPServer
import LockedValue
import ModelBundle
import Scheduler
import ServerLog

/// The HTTP API of enat-serve on top of a `GenerationScheduler`: OpenAI's Images API, jobs with
/// progressive streams, models, health, readiness, metrics and a demo page.
///
/// ```swift
/// let api = ImageAPI(scheduler: scheduler, configuration: .init())
/// let server = HTTPServer(configuration: .init(port: 8080), handler: api.handler)
/// ```
public final class ImageAPI: Sendable {
    public let scheduler: GenerationScheduler
    public let configuration: APIConfiguration
    let watchers = JobWatchers()
    let metrics = HTTPMetrics()
    private let draining = Locked(false)

    public init(scheduler: GenerationScheduler, configuration: APIConfiguration) {
        self.scheduler = scheduler
        self.configuration = configuration
    }

    /// The handler to give `HTTPServer`.
    public var handler: HTTPHandler {
        { [self] request, context in await handle(request, context: context) }
    }

    /// The observer to give `HTTPServer` for the requests it refuses itself: they are counted
    /// in `enat_http_rejections_total` and logged, as the requests that reach the API are.
    public var rejectionObserver: HTTPRejectionObserver {
        { [self] error, remoteAddress in
            metrics.recordRejection(reason: error.code, code: error.status.code)
            configuration.logger.info(
                "request rejected",
                [
                    "status": .int(error.status.code), "reason": .string(error.code), "remote": .string(remoteAddress),
                ])
        }
    }

    /// Makes `/readyz` fail from now on (called first thing on SIGTERM, before the drain).
    public func beginDraining() {
        draining.withLock { $0 = true }
    }

    /// Whether generation requests are accepted, and if not, why.
    var notReadyReason: String? {
        if draining.withLock({ $0 }) { return "draining: the server is shutting down" }
        if scheduler.models.isEmpty { return "no model loaded" }
        if !scheduler.isReady { return scheduler.notReadyReason ?? "the scheduler is not ready" }
        return nil
    }

    /// Routes that answer without a key: probes, the page (static; it asks for the key itself)
    /// and, unless configured otherwise, the metrics.
    private func isOpen(_ path: String) -> Bool {
        ["/", "/healthz", "/health", "/readyz"].contains(path) || (path == "/metrics" && !configuration.protectMetrics)
    }

    /// Routes that create generations: their 400s count as invalid submissions.
    private static let generationRoutes: Set<String> = ["/v1/images/generations", "/v1/images/edits", "/v1/jobs", "/v1/jobs/new"]

    /// Routes a load balancer or Prometheus polls: logged at debug, not info.
    private static let quietRoutes: Set<String> = ["/healthz", "/health", "/readyz", "/metrics"]

    /// Checks access (CORS preflight, API key), routes, then records the request in the metrics
    /// and the log (for a stream, when it ends).
    func handle(_ request: HTTPRequest, context: RequestContext) async -> HTTPResponse {
        let start = ContinuousClock.now
        let origin = request.headers["Origin"]
        var route: String
        var answered: HTTPResponse
        var failure: APIError?
        if request.method == .options, request.headers["Access-Control-Request-Method"] != nil {
            // Browsers send preflights without credentials: answered before the key check.
            (route, answered) = ("preflight", configuration.crossOrigin.preflight(origin: origin))
        } else {
            switch configuration.apiKeys.check(authorization: request.headers["Authorization"]) {
            case .missing where !isOpen(request.path), .wrong where !isOpen(request.path):
                let error = APIError.unauthorized(missing: request.headers["Authorization"] == nil)
                (route, answered, failure) = ("unauthorized", error.response, error)
            case .key(let index):
                (route, answered, failure) = await self.route(request, context: context, owner: "key\(index)")
            default:
                (route, answered, failure) = await self.route(request, context: context, owner: nil)
            }
        }
        configuration.crossOrigin.decorate(&answered, origin: origin)
        let code = answered.status.code
        if code == 400, Self.generationRoutes.contains(route) { metrics.recordInvalidSubmission() }
        let finish: @Sendable () -> Void = { [self, route, failure] in
            let seconds = (ContinuousClock.now - start).inSeconds
            metrics.record(route: route, code: code, seconds: seconds)
            var fields: [String: LogValue] = [
                "request_id": .string(context.requestID), "method": .string(request.method.rawValue),
                "path": .string(request.path), "status": .int(code), "duration_ms": .double(seconds * 1000),
                "remote": .string(context.remoteAddress), "route": .string(route),
            ]
            if let failure {
                fields["error_code"] = .string(failure.code ?? failure.type)
                fields["error"] = .string(failure.message)
                if let param = failure.param { fields["param"] = .string(param) }
            }
            // Probes are polled every few seconds, also while draining (503): debug, so that
            // they do not drown the requests people make. A refused key on /metrics still shows.
            let quiet = Self.quietRoutes.contains(route) && !(400..<500).contains(code)
            let level: LogLevel = quiet ? .debug : (code >= 500 ? .warning : .info)
            configuration.logger.log(level, "request", fields)
        }
        if case .stream(let produce) = answered.body {
            answered.body = .stream { writer in
                defer { finish() }
                try await produce(writer)
            }
        } else {
            finish()
        }
        return answered
    }

    /// The route name (a bounded metrics label), the response, and the error it answers, if any.
    /// `owner` is the caller's key (nil without keys): jobs are visible only to their owner.
    private func route(_ request: HTTPRequest, context: RequestContext, owner: String?) async -> (String, HTTPResponse, APIError?) {
        let parts = request.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        let method = request.method
        var failure: APIError?
        /// Runs `body` for an allowed method, else answers 405 with `Allow`. HEAD is served like
        /// GET only where that has no effect (`head`); a HEAD must not start a generation.
        func only(_ allowed: [HTTPMethod], head: Bool = true, _ body: () async throws(APIError) -> HTTPResponse) async -> HTTPResponse {
            let permitted = head && allowed.contains(.get) ? allowed + [.head] : allowed
            do throws(APIError) {
                guard permitted.contains(method) else { throw APIError.methodNotAllowed(method, allowed: permitted) }
                return try await body()
            } catch {
                failure = error
                return error.response
            }
        }
        /// The captured `{id}` segment when the path matches `pattern`, "" when it matches without one.
        func match(_ pattern: String) -> String? {
            let expected = pattern.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
            guard expected.count == parts.count else { return nil }
            var captured = ""
            for (want, have) in zip(expected, parts) {
                if want == "{id}" {
                    guard !have.isEmpty else { return nil }
                    captured = have
                } else if want != have {
                    return nil
                }
            }
            return captured
        }
        func dispatch() async -> (String, HTTPResponse) {
            if match("/") != nil { return ("/", await only([.get]) { DemoPage.response }) }
            // `/health` is llama-server's name for the same probe.
            if match("/healthz") != nil { return ("/healthz", await only([.get]) { health() }) }
            if match("/health") != nil { return ("/health", await only([.get]) { health() }) }
            if match("/readyz") != nil { return ("/readyz", await only([.get]) { readiness() }) }
            if match("/metrics") != nil { return ("/metrics", await only([.get]) { metricsPage() }) }
            if match("/v1/models") != nil { return ("/v1/models", await only([.get]) { modelList() }) }
            if let id = match("/v1/models/{id}") {
                return ("/v1/models/{id}", await only([.get]) { () throws(APIError) in try model(id) })
            }
            if match("/v1/images/generations") != nil {
                return (
                    "/v1/images/generations",
                    await only([.post]) { () throws(APIError) in
                        try await generateImages(request, context: context, owner: owner)
                    }
                )
            }
            if match("/v1/images/edits") != nil {
                return (
                    "/v1/images/edits",
                    await only([.post]) { () throws(APIError) in
                        try await editImages(request, context: context, owner: owner)
                    }
                )
            }
            if match("/v1/jobs") != nil {
                return ("/v1/jobs", await only([.post]) { () throws(APIError) in try await createJob(request, context: context, owner: owner) })
            }
            if match("/v1/jobs/new") != nil {
                return (
                    "/v1/jobs/new",
                    await only([.get], head: false) { () throws(APIError) in
                        try await createJobFromQuery(request, context: context, owner: owner)
                    }
                )
            }
            if let id = match("/v1/jobs/{id}") {
                return (
                    "/v1/jobs/{id}",
                    await only([.get, .delete]) { () throws(APIError) in
                        method == .delete ? try cancelJob(id, owner: owner) : try jobStatus(id, owner: owner)
                    }
                )
            }
            if let id = match("/v1/jobs/{id}/image") {
                return (
                    "/v1/jobs/{id}/image",
                    await only([.get], head: false) { () throws(APIError) in
                        try await jobImage(id, owner: owner, request: request, context: context)
                    }
                )
            }
            if let id = match("/v1/jobs/{id}/stream") {
                return (
                    "/v1/jobs/{id}/stream",
                    await only([.get], head: false) { () throws(APIError) in
                        try await jobStream(id, owner: owner, request: request, context: context)
                    }
                )
            }
            let error = APIError.notFound("No route for \(request.method) \(request.path).", code: "unknown_route")
            failure = error
            return ("other", error.response)
        }
        let (route, response) = await dispatch()
        return (route, response, failure)
    }

    /// A JSON response.
    static func json(_ value: some Encodable, status: HTTPStatus = .ok, headers: [(String, String)] = []) -> HTTPResponse {
        var fields = HTTPHeaders([("Content-Type", "application/json")])
        for (name, value) in headers { fields.add(name: name, value: value) }
        return HTTPResponse(status: status, headers: fields, body: .bytes(JSON.encode(value)))
    }

    func loadedModel(_ id: String) -> LoadedModel? {
        scheduler.models.first { $0.id == id }
    }

    /// Submits every request or none: if one is refused, the ones already queued are cancelled.
    func submitAll(_ requests: [GenerationRequest]) throws(APIError) -> [GenerationJob] {
        var jobs: [GenerationJob] = []
        for request in requests {
            do {
                jobs.append(try scheduler.submit(request))
            } catch {
                for job in jobs { job.cancel() }
                throw APIError.submit(error)
            }
        }
        return jobs
    }

    var requestDeadline: ContinuousClock.Instant { .now + configuration.requestTimeout }

    var responder: JobResponder {
        JobResponder(watchers: watchers, pingInterval: configuration.pingInterval, metrics: metrics, models: scheduler.models)
    }
}
