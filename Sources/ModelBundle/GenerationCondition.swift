/// What a request asks the model to draw.
public enum GenerationCondition: Sendable, Equatable {
    /// A class index in `0..<numClasses` of a class-conditional model.
    case classLabel(Int)
    /// A caption for a caption-conditioned model.
    case caption(String)
}
