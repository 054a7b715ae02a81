/// Why `GenerationScheduler.submit` refused a request (nothing was queued).
public enum SubmitError: Error, Sendable, Equatable, CustomStringConvertible {
    case unknownModel(String)
    /// A parameter is out of range; `parameter` is its snake_case name.
    case invalid(parameter: String, message: String)
    /// The queue holds `maxQueueLength` jobs; `retryAfter` estimates when a slot frees up.
    case queueFull(retryAfter: Duration)
    case shuttingDown

    /// Every `reason` value, for metrics that show zero counts too.
    public static let reasons = ["unknown_model", "invalid", "queue_full", "shutting_down"]

    /// A stable snake_case label (metrics, JSON error codes).
    public var reason: String {
        switch self {
        case .unknownModel: "unknown_model"
        case .invalid: "invalid"
        case .queueFull: "queue_full"
        case .shuttingDown: "shutting_down"
        }
    }

    public var description: String {
        switch self {
        case .unknownModel(let id): "unknown model '\(id)'"
        case .invalid(let parameter, let message): "invalid \(parameter): \(message)"
        case .queueFull(let retryAfter): "the queue is full; retry after \(retryAfter.components.seconds) s"
        case .shuttingDown: "the server is shutting down"
        }
    }
}
