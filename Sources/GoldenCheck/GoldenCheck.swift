import ModelFiles
import Tensors

/// Entry point of `enat golden` and the parity tests: recognise a file, reproduce it.
public enum GoldenCheck {
    /// Reproduces every expectation of a golden file, optionally with the model parameters
    /// read from `weights` (a checkpoint with official key names) instead of the file's own.
    /// Files with captions (CLIP text, caption ENAT) need CLIP's BPE vocabulary: `vocabulary`,
    /// else `clip_bpe_simple_vocab_16e6.txt.gz` beside the file.
    /// `precision` is the engine's (bf16 widens the tolerances, see `GoldenReport`).
    public static func run(
        path: String, weights: (any TensorArchive)? = nil, vocabulary: String? = nil, precision: ComputePrecision = .fp32
    ) throws -> GoldenReport {
        let file = try GoldenFile(path: path)
        switch file.kind {
        case .enatForward: return try ENATGolden.checkForward(file, weights: weights, precision: precision)
        case .enatTrajectory: return try TrajectoryGolden.check(file, weights: weights, precision: precision)
        case .vqgan: return try VQGANGolden.check(file, weights: weights, precision: precision)
        case .vqganEncoder: return try VQGANEncoderGolden.check(file, weights: weights, precision: precision)
        case .clipText: return try CLIPGolden.check(file, weights: weights, vocabulary: vocabulary, precision: precision)
        case .captionENATForward:
            return try CaptionENATGolden.check(file, weights: weights, vocabulary: vocabulary, precision: precision)
        }
    }
}
