import ModelFiles

/// Entry point of `enat golden` and the parity tests: recognise a file, reproduce it.
public enum GoldenCheck {
    /// Reproduces every expectation of a golden file, optionally with the model parameters
    /// read from `weights` (a checkpoint with official key names) instead of the file's own.
    /// Files with captions (CLIP text, caption ENAT) need CLIP's BPE vocabulary: `vocabulary`,
    /// else `clip_bpe_simple_vocab_16e6.txt.gz` beside the file.
    public static func run(path: String, weights: (any TensorArchive)? = nil, vocabulary: String? = nil) throws -> GoldenReport {
        let file = try GoldenFile(path: path)
        switch file.kind {
        case .enatForward: return try ENATGolden.checkForward(file, weights: weights)
        case .enatTrajectory: return try TrajectoryGolden.check(file, weights: weights)
        case .vqgan: return try VQGANGolden.check(file, weights: weights)
        case .clipText: return try CLIPGolden.check(file, weights: weights, vocabulary: vocabulary)
        case .captionENATForward: return try CaptionENATGolden.check(file, weights: weights, vocabulary: vocabulary)
        }
    }
}
