import Tensors

/// What one conditioning stream of one request keeps between sampler steps: the features of
/// every position and which positions were masked (the official `prev`). The conditional and
/// the unconditional stream each own one.
public final class StreamState {
    public let tokenCount: Int
    public let hiddenSize: Int
    /// `[L, D]` features of the last forward.
    let features: FloatBuffer
    /// `true` where the last forward's input was the mask token.
    public internal(set) var masking: [Bool]
    /// `false` until a forward has written this state.
    public internal(set) var isValid = false

    public init(tokenCount: Int, hiddenSize: Int) {
        self.tokenCount = tokenCount
        self.hiddenSize = hiddenSize
        features = FloatBuffer(count: tokenCount * hiddenSize)
        masking = Array(repeating: true, count: tokenCount)
    }

    /// Forget the previous step: the next forward runs without reuse.
    public func reset() { isValid = false }

    /// A copy of the features, `[L, D]` row-major.
    public var featureValues: [Float] { features.array }

    /// Sets the state from outside (golden files provide `prev` tensors directly).
    public func load(features values: [Float], masking: [Bool]) {
        precondition(values.count == features.count && masking.count == tokenCount)
        values.withUnsafeBufferPointer { features.pointer.update(from: $0.baseAddress!, count: values.count) }
        self.masking = masking
        isValid = true
    }

    func copy(from other: StreamState) {
        features.pointer.update(from: other.features.pointer, count: features.count)
        masking = other.masking
        isValid = other.isValid
    }
}

/// Which rows of logits a forward should produce.
public enum LogitRows: Sendable {
    /// None: only the features (an unguided first step of the unconditional stream).
    case none
    /// Positions masked in the input: all the sampler needs.
    case masked
    /// Every position (golden comparisons).
    case all
}

/// One sequence of a ragged batch: a token map, its condition and its stream state.
public struct ForwardItem {
    /// `[L]` token ids, the mask token where not yet revealed.
    public var ids: [Int32]
    /// Class label, or `numClasses` for the unconditional stream (class models).
    public var label: Int
    /// Caption models: the caption's condition (the empty caption's for the unconditional
    /// stream); when set, `label` is ignored.
    public var text: TextCondition?
    /// Read as `prev` when valid (reuse), then overwritten with this forward's features.
    public var state: StreamState
    public var logits: LogitRows

    public init(ids: [Int32], label: Int, state: StreamState, logits: LogitRows) {
        self.ids = ids
        self.label = label
        self.text = nil
        self.state = state
        self.logits = logits
    }

    /// An item of a caption model.
    public init(ids: [Int32], text: TextCondition, state: StreamState, logits: LogitRows) {
        self.ids = ids
        self.label = 0
        self.text = text
        self.state = state
        self.logits = logits
    }
}

/// The logits of one item: `rows` rows of `V` values, at `positions`. Points into the
/// transformer's own buffer: valid until its next forward.
public struct LogitsView {
    public let positions: [Int]
    public let values: UnsafeBufferPointer<Float>
    public let vocabulary: Int

    public func row(_ index: Int) -> UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(rebasing: values[(index * vocabulary)..<((index + 1) * vocabulary)])
    }
}
