/// What conditions a model's images: an ImageNet-style class label or a free-text caption.
public enum ModelKind: String, Sendable, Codable {
    /// `config.json` spells it "class".
    case classConditional = "class"
    case caption
}
