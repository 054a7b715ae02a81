/// What the sampler accepts: the one statement of the limits of steps, guidance, temperatures,
/// class label and caption. A bundle's defaults, the scheduler, the HTTP API and the CLI all check
/// through `validate` and word its `SamplerSettingError` in their own terms (a bundle key, a wire
/// parameter, a flag); none of them compares a setting against a bound of its own.
public struct SamplerLimits: Sendable, Equatable {
    public var steps: ClosedRange<Int>
    public var guidanceScale: ClosedRange<Double>
    public var maskTemperature: ClosedRange<Double>
    public var sampleTemperature: ClosedRange<Double>
    /// Longest caption, in Unicode scalars: the unit CLIP's text cleaning and pre-tokenizing walk
    /// (Python's `len(str)` in the reference tokenizer).
    public var captionScalars: Int

    public init(
        steps: ClosedRange<Int>, guidanceScale: ClosedRange<Double>, maskTemperature: ClosedRange<Double>,
        sampleTemperature: ClosedRange<Double>, captionScalars: Int
    ) {
        self.steps = steps
        self.guidanceScale = guidanceScale
        self.maskTemperature = maskTemperature
        self.sampleTemperature = sampleTemperature
        self.captionScalars = captionScalars
    }

    /// The engine's limits. Steps: the official samplers use 8 to 64, and each step is a
    /// forward pass. Guidance 0...50 and temperatures 0...100: far beyond where images stop
    /// changing (the released defaults are 2.5-3.5 and 1.5-6). Captions: CLIP reads 77 tokens,
    /// about 300 characters of English; 1,000 scalars (at most 4,000 UTF-8 bytes) leave room
    /// while keeping the tokenizer's work on the inference thread small.
    public static let engine = SamplerLimits(
        steps: 1...64, guidanceScale: 0...50, maskTemperature: 0...100, sampleTemperature: 0...100, captionScalars: 1000)

    /// These limits with at most `maxSteps` steps: an operator may narrow them, never widen.
    public func narrowed(maxSteps: Int) -> SamplerLimits {
        var limits = self
        limits.steps = steps.lowerBound...max(steps.lowerBound, min(steps.upperBound, maxSteps))
        return limits
    }

    /// Throws the first setting outside the limits: the condition first (class label or
    /// caption), then steps, guidance and the two temperatures.
    public func validate(_ settings: SamplerSettings, condition: SamplerCondition? = nil) throws(SamplerSettingError) {
        switch condition {
        case .classLabel(let label, let classCount):
            guard (0..<max(0, classCount)).contains(label) else { throw .classLabel(label, allowed: 0..<max(0, classCount)) }
        case .caption(let caption):
            try checkCaptionLength(caption)
            guard !caption.allSatisfy(\.isWhitespace) else { throw .captionEmpty }
        case nil:
            break
        }
        guard steps.contains(settings.steps) else { throw .steps(settings.steps, allowed: steps) }
        guard Self.accepts(settings.guidanceScale, guidanceScale) else {
            throw .guidanceScale(settings.guidanceScale, allowed: guidanceScale)
        }
        guard Self.accepts(settings.maskTemperature, maskTemperature) else {
            throw .maskTemperature(settings.maskTemperature, allowed: maskTemperature)
        }
        guard Self.accepts(settings.sampleTemperature, sampleTemperature) else {
            throw .sampleTemperature(settings.sampleTemperature, allowed: sampleTemperature)
        }
    }

    /// The caption bound alone. A front end also holds any prompt text to it before looking the
    /// text up as a class name, so no text longer than the longest caption is ever searched.
    public func checkCaptionLength(_ text: String) throws(SamplerSettingError) {
        let scalars = text.unicodeScalars.count
        guard scalars <= captionScalars else { throw .captionLength(scalars, limit: captionScalars) }
    }

    private static func accepts(_ value: Double, _ range: ClosedRange<Double>) -> Bool {
        value.isFinite && range.contains(value)
    }
}

/// What conditions a run, as far as the limits go: a class label (of a model with `classCount`
/// classes; the unconditional label `classCount` is the sampler's own, never a request's) or a
/// caption.
public enum SamplerCondition: Sendable, Equatable {
    case classLabel(Int, classCount: Int)
    case caption(String)
}

/// A sampler setting outside `SamplerLimits`: one case per setting, with the value found and
/// what is allowed, so that each layer can name the setting its own way.
public enum SamplerSettingError: Error, Sendable, Equatable, CustomStringConvertible {
    case steps(Int, allowed: ClosedRange<Int>)
    case guidanceScale(Double, allowed: ClosedRange<Double>)
    case maskTemperature(Double, allowed: ClosedRange<Double>)
    case sampleTemperature(Double, allowed: ClosedRange<Double>)
    /// `allowed` is empty for a model without classes.
    case classLabel(Int, allowed: Range<Int>)
    /// The caption's length in Unicode scalars, over `limit`.
    case captionLength(Int, limit: Int)
    /// A caption of whitespace only (the empty caption is the unconditional stream's).
    case captionEmpty

    /// Which setting is at fault, for layers that map settings to their own names.
    public enum Setting: Sendable, Equatable {
        case steps, guidanceScale, maskTemperature, sampleTemperature, classLabel, caption
    }

    public var setting: Setting {
        switch self {
        case .steps: .steps
        case .guidanceScale: .guidanceScale
        case .maskTemperature: .maskTemperature
        case .sampleTemperature: .sampleTemperature
        case .classLabel: .classLabel
        case .captionLength, .captionEmpty: .caption
        }
    }

    /// What the setting must be, without its name: `must be 1...64, got 65`.
    public var requirement: String {
        switch self {
        case .steps(let value, let allowed):
            "must be \(allowed.lowerBound)...\(allowed.upperBound), got \(value)"
        case .guidanceScale(let value, let allowed), .maskTemperature(let value, let allowed),
            .sampleTemperature(let value, let allowed):
            "must be a finite number in \(Self.format(allowed.lowerBound))...\(Self.format(allowed.upperBound)), got \(Self.format(value))"
        case .classLabel(let value, let allowed):
            allowed.isEmpty
                ? "given (\(value)), but the model has no classes"
                : "\(value) is outside \(allowed.lowerBound)...\(allowed.upperBound - 1)"
        case .captionLength(let scalars, let limit):
            "must be at most \(limit) characters (Unicode scalars), got \(scalars)"
        case .captionEmpty:
            "must not be empty"
        }
    }

    public var description: String {
        switch setting {
        case .steps: "steps \(requirement)"
        case .guidanceScale: "guidance scale \(requirement)"
        case .maskTemperature: "mask temperature \(requirement)"
        case .sampleTemperature: "sample temperature \(requirement)"
        case .classLabel: "class label \(requirement)"
        case .caption: "caption \(requirement)"
        }
    }

    /// `50` rather than `50.0`; other values as Swift prints them.
    public static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}
