import HTTPServer
import Imaging
import ServerLog

/// The API's own limits and timings (the scheduler and the HTTP server have theirs).
public struct APIConfiguration: Sendable {
    /// Deadline of one generation request, from its arrival.
    public var requestTimeout: Duration = .seconds(300)
    /// Interval of SSE comment pings on an otherwise quiet stream.
    public var pingInterval: Duration = .seconds(5)
    /// Most images one `POST /v1/images/generations` may ask for (`n`), as OpenAI's API.
    public var maxImagesPerRequest = 10
    /// Largest image upload: one file of a `/v1/images/edits` or `/v1/jobs` form, or one base64
    /// file of a job's JSON (the routes' body limits follow from it: `uploadBodyLimits`).
    public var maxUploadBytes = APIConfiguration.defaultMaxUploadBytes
    /// What a decoded upload may be (dimensions, pixels), checked before its pixels are allocated.
    public var uploadLimits = ImageDecodingLimits.uploads
    /// Most sampler steps a request may ask for: narrows `SamplerLimits.engine.steps`, never
    /// widens it (the caption and every other limit are the engine's alone).
    public var maxSteps = 64
    /// Where request logs go.
    public var logger: Logger = .disabled
    /// Keys every route needs except the probes, the page (and `/metrics` unless `protectMetrics`).
    public var apiKeys = APIKeys([])
    /// Whether `/metrics` needs a key too (when there are keys).
    public var protectMetrics = false
    /// Web origins allowed to call the API from a browser.
    public var crossOrigin = CrossOriginPolicy(origins: [])
    /// Proxy addresses whose `Forwarded` / `X-Forwarded-*` headers are believed.
    public var trustedProxies: [String] = []

    public init() {}

    /// Bounds on a form (edits, jobs): a part may be as large as an upload.
    var formLimits: MultipartLimits { MultipartLimits(maxParts: 32, maxHeaderBytes: 8 * 1024, maxPartBytes: maxUploadBytes) }

    /// The body limits of the routes that take uploads, for `HTTPServerConfiguration`'s
    /// `maxBodyBytesByPath`: an image and a mask of `maxUploadBytes` each, plus `fieldBytes` for
    /// the other fields. A job may send both as base64 in JSON: 4 characters for 3 bytes.
    public static func uploadBodyLimits(maxUploadBytes: Int = defaultMaxUploadBytes, fieldBytes: Int) -> [String: Int] {
        let base64 = (maxUploadBytes + 2) / 3 * 4
        return ["/v1/images/edits": 2 * maxUploadBytes + fieldBytes, "/v1/jobs": 2 * base64 + fieldBytes]
    }

    /// 16 MiB: a 2048 x 2048 PNG photo fits; OpenAI's DALL-E 2 edits took 4 MB.
    public static let defaultMaxUploadBytes = 16 << 20
}
