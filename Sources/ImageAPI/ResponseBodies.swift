import Foundation
import Scheduler

/// `GET /v1/jobs/{id}` and the answer to a job creation.
struct JobStatusBody: Encodable, Sendable {
    struct Links: Encodable, Sendable {
        var image: String
        var stream: String
    }

    var id: String
    var object = "image.job"
    var model: String
    var status: String
    var step: Int
    var steps: Int
    var queuePosition: Int?
    var created: Int
    var seed: UInt64
    var error: ErrorBody.Detail?
    var links: Links
    /// The finished image's VQGAN tokens (row-major latent grid), for people who study or edit
    /// them; null until the job has completed.
    var tokens: [Int32]?

    enum CodingKeys: String, CodingKey {
        case id, object, model, status, step, steps, created, seed, error, links, tokens
        case queuePosition = "queue_position"
    }

    /// `output` is the format the job was asked for: its links ask for it too.
    init(job: GenerationJob, output: OutputImageFormat = .png) {
        let status = job.status
        id = job.id
        model = status.model
        self.status = status.state.rawValue
        step = status.step
        steps = status.steps
        queuePosition = status.queuePosition
        created = Int(status.createdAt.timeIntervalSince1970)
        seed = job.request.seed
        error = status.failure.map { APIError.generation($0).body.error }
        links = Links(image: "/v1/jobs/\(job.id)/image\(output.query)", stream: "/v1/jobs/\(job.id)/stream\(output.query)")
        tokens = job.result?.tokens
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(object, forKey: .object)
        try c.encode(model, forKey: .model)
        try c.encode(status, forKey: .status)
        try c.encode(step, forKey: .step)
        try c.encode(steps, forKey: .steps)
        try c.encode(queuePosition, forKey: .queuePosition)  // null once the job left the queue
        try c.encode(created, forKey: .created)
        try c.encode(seed, forKey: .seed)
        try c.encode(error, forKey: .error)
        try c.encode(links, forKey: .links)
        try c.encode(tokens, forKey: .tokens)
    }
}

/// The progress event of the job streams (SSE `progress` data, NDJSON `"type": "progress"`).
struct ProgressBody: Encodable, Sendable {
    var type = "progress"
    var jobID: String
    var state: String
    var step: Int
    var steps: Int
    var queuePosition: Int?
    var revealed: Int?
    var tokenCount: Int?
    /// This step's preview (base64, in the job's `output_format`, PNG by default), when the
    /// request asked for previews.
    var image: String?

    enum CodingKeys: String, CodingKey {
        case type, state, step, steps, revealed, image
        case jobID = "job_id"
        case queuePosition = "queue_position"
        case tokenCount = "token_count"
    }
}

/// The final event of the job streams.
struct CompletedBody: Encodable, Sendable {
    var type = "completed"
    var jobID: String
    var model: String
    var seed: UInt64
    var steps: Int
    var queueSeconds: Double
    var runSeconds: Double
    var image: String

    enum CodingKeys: String, CodingKey {
        case type, model, seed, steps, image
        case jobID = "job_id"
        case queueSeconds = "queue_seconds"
        case runSeconds = "run_seconds"
    }
}

/// An error inside a stream: `{"type": "error", "error": {...}}` (plus the job it concerns).
struct StreamErrorBody: Encodable, Sendable {
    var type = "error"
    var jobID: String?
    var error: ErrorBody.Detail

    enum CodingKeys: String, CodingKey {
        case type, error
        case jobID = "job_id"
    }
}

/// `GET /v1/models`: OpenAI's list format plus what a client needs to ask for an image.
struct ModelListBody: Encodable, Sendable {
    struct Model: Encodable, Sendable {
        var id: String
        var object = "model"
        var created: Int
        var ownedBy = "enat-serve"
        var kind: String
        var description: String
        var resolution: Int
        var size: String
        var classes: [String]?
        var defaultSettings: Settings
        /// What computes it: "fp32" or "bf16", the backend and its kernel.
        var precision: String
        var computeBackend: String
        var computeKernel: String
        /// Whether it edits images (`/v1/images/edits`, edit jobs): its bundle has a VQGAN encoder.
        var canEdit: Bool

        enum CodingKeys: String, CodingKey {
            case id, object, created, kind, description, resolution, size, classes, precision
            case ownedBy = "owned_by"
            case canEdit = "can_edit"
            case computeBackend = "compute_backend"
            case computeKernel = "compute_kernel"
            case defaultSettings = "default_settings"
        }
    }

    struct Settings: Encodable, Sendable {
        var steps: Int
        var guidanceScale: Double
        var maskTemperature: Double
        var sampleTemperature: Double

        enum CodingKeys: String, CodingKey {
            case steps
            case guidanceScale = "guidance_scale"
            case maskTemperature = "mask_temperature"
            case sampleTemperature = "sample_temperature"
        }
    }

    var object = "list"
    var data: [Model]
}
