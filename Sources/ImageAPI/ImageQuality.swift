/// OpenAI's `quality`, as sampler steps: ENAT's quality knob is how many steps reveal the
/// tokens (fewer steps reveal more tokens at once, each guessing without seeing the others).
/// An explicit `steps` wins over the tier.
enum ImageQuality: String, Sendable, CaseIterable {
    case auto, low, medium, high, xhigh, max
    /// DALL-E's names, still in the SDK: `standard` is `medium`, `hd` is `high`.
    case standard, hd

    /// The tier reported back (the SDK's response knows `low`, `medium`, `high`, `xhigh`, `max`).
    var reported: ImageQuality {
        switch self {
        case .auto, .standard: .medium
        case .hd: .high
        case .low, .medium, .high, .xhigh, .max: self
        }
    }

    /// Steps of this tier for a model whose default is `defaultSteps`: `low` half (rounded up),
    /// `medium` (and `auto`) the default, `high` twice, `xhigh` three and `max` four times it,
    /// never more than `maxSteps` (the server's limit).
    func steps(default defaultSteps: Int, maxSteps: Int) -> Int {
        let steps: Int
        switch reported {
        case .low: steps = (defaultSteps + 1) / 2
        case .high: steps = 2 * defaultSteps
        case .xhigh: steps = 3 * defaultSteps
        case .max: steps = 4 * defaultSteps
        default: steps = defaultSteps
        }
        return Swift.max(1, Swift.min(steps, Swift.max(maxSteps, defaultSteps)))
    }

    /// Reads `quality` (default `auto`), or a 400 naming it.
    init(parsing value: String?) throws(APIError) {
        guard let value else {
            self = .auto
            return
        }
        guard let quality = ImageQuality(rawValue: value) else {
            throw APIError.invalid(
                "quality", "'quality' must be one of \(Self.allCases.map(\.rawValue).joined(separator: ", ")); got '\(value)'.")
        }
        self = quality
    }
}
