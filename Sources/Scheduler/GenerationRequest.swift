import ENAT
import ModelBundle

/// One image to generate: native values only (the API turns JSON into this at the edge).
public struct GenerationRequest: Sendable {
    /// Id of a loaded model (`LoadedModel.id`).
    public var model: String
    public var condition: GenerationCondition
    /// Seed of the request's random generator: same model, request and seed give the same tokens.
    public var seed: UInt64
    public var settings: SamplerSettings
    public var preview: PreviewMode
    /// 0-based steps that get a preview frame; `nil` means every step. Ignored when `preview` is `.none`.
    public var previewSteps: Set<Int>?
    /// The job fails with `.deadlineExceeded` at the first step boundary past this instant,
    /// queued or running.
    public var deadline: ContinuousClock.Instant?
    /// Who may see the job (the API key that created it); nil when the server has no keys.
    public var owner: String?
    /// An edit of an existing image (inpainting, variation); nil generates from nothing.
    public var edit: ImageEdit?

    public init(
        model: String, condition: GenerationCondition, seed: UInt64, settings: SamplerSettings,
        preview: PreviewMode = .none, previewSteps: Set<Int>? = nil, deadline: ContinuousClock.Instant? = nil,
        owner: String? = nil, edit: ImageEdit? = nil
    ) {
        self.owner = owner
        self.edit = edit
        self.model = model
        self.condition = condition
        self.seed = seed
        self.settings = settings
        self.preview = preview
        self.previewSteps = previewSteps
        self.deadline = deadline
    }

    /// Whether the step with this 0-based index gets a preview frame.
    public func wantsPreview(atStep step: Int) -> Bool {
        preview != .none && (previewSteps?.contains(step) ?? true)
    }
}
