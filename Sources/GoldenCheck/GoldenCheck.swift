import ModelFiles

/// Entry point of `enat golden` and the parity tests: recognise a file, reproduce it.
public enum GoldenCheck {
    /// Reproduces every expectation of a golden file, optionally with the model parameters
    /// read from `weights` (a checkpoint with official key names) instead of the file's own.
    public static func run(path: String, weights: (any TensorArchive)? = nil) throws -> GoldenReport {
        let file = try GoldenFile(path: path)
        switch file.kind {
        case .enatForward: return try ENATGolden.checkForward(file, weights: weights)
        case .enatTrajectory: return try TrajectoryGolden.check(file, weights: weights)
        case .vqgan: return try VQGANGolden.check(file, weights: weights)
        case .clipText:
            throw GoldenError.inconsistent(path, "\(file.kind.rawValue) files are checked by their own modules")
        }
    }
}
