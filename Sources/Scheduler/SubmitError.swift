import ENAT
import ModelBundle

/// Why `GenerationScheduler.submit` refused a request (nothing was queued).
public enum SubmitError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownModel(String)
    /// A sampler setting, class label or caption outside `SamplerLimits.engine`.
    case invalidSetting(model: String, SamplerSettingError)
    /// A caption for a class model or a class for a caption model: `model` takes `kind`.
    case conditionMismatch(model: String, takes: ModelKind)
    /// A preview step outside `0..<steps`.
    case previewStep(Int, steps: Int)
    /// The queue holds `maxQueueLength` jobs; `retryAfter` estimates when a slot frees up.
    case queueFull(retryAfter: Duration)
    case shuttingDown

    /// Every `reason` value, for metrics that show zero counts too.
    public static let reasons = ["unknown_model", "invalid", "queue_full", "shutting_down"]

    /// A stable snake_case label (metrics, JSON error codes).
    public var reason: String {
        switch self {
        case .unknownModel: "unknown_model"
        case .invalidSetting, .conditionMismatch, .previewStep: "invalid"
        case .queueFull: "queue_full"
        case .shuttingDown: "shutting_down"
        }
    }

    public var description: String {
        switch self {
        case .unknownModel(let id): "unknown model '\(id)'"
        case .invalidSetting(let model, let error): "model '\(model)': \(error)"
        case .conditionMismatch(let model, .classConditional): "model '\(model)' is class-conditional and takes a class"
        case .conditionMismatch(let model, .caption): "model '\(model)' takes a caption, not a class"
        case .previewStep(let step, let steps): "preview steps are 0-based and below \(steps), got \(step)"
        case .queueFull(let retryAfter): "the queue is full; retry after \(retryAfter.components.seconds) s"
        case .shuttingDown: "the server is shutting down"
        }
    }
}
