/// Progressive preview frames a generation may emit, one per sampler step.
public enum PreviewMode: String, Sendable, Codable, CaseIterable {
    /// No frames.
    case none
    /// Revealed tokens drawn as flat cells in their code's colour: a few milliseconds a frame.
    case mosaic
    /// The VQGAN decode of the step's whole predicted token map: a full decode per frame.
    case full
}
