/// Why an accepted job did not produce an image.
public enum GenerationFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The client cancelled it (disconnect or DELETE).
    case cancelled
    /// It waited longer than `maxQueueWait` or passed its request's deadline.
    case deadlineExceeded
    /// The server drained before the job could finish.
    case shuttingDown
    /// The engine failed (preparing the run, stepping or rendering); the message says how.
    case engine(String)

    /// Every `reason` value, for metrics that show zero counts too.
    public static let reasons = ["cancelled", "deadline_exceeded", "shutting_down", "engine"]

    /// A stable snake_case label (metrics, JSON error codes).
    public var reason: String {
        switch self {
        case .cancelled: "cancelled"
        case .deadlineExceeded: "deadline_exceeded"
        case .shuttingDown: "shutting_down"
        case .engine: "engine"
        }
    }

    public var description: String {
        switch self {
        case .cancelled: "the job was cancelled"
        case .deadlineExceeded: "the job passed its deadline"
        case .shuttingDown: "the server is shutting down"
        case .engine(let message): "generation failed: \(message)"
        }
    }
}
