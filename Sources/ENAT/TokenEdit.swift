/// What an edit keeps of an existing image: its token map, and which positions the run
/// generates anew (inpainting, outpainting, variations). Kept positions are visible from the
/// first step and never resampled; ENAT is a masked-token model, so this is its own task.
public struct TokenEdit: Sendable, Equatable {
    /// The source image's tokens (its VQGAN encoding), `[L]`.
    public let ids: [Int32]
    /// `true` where the run generates, `[L]`.
    public let regenerate: [Bool]

    public init(ids: [Int32], regenerate: [Bool]) {
        self.ids = ids
        self.regenerate = regenerate
    }

    /// A variation: `strength` of the positions (rounded to whole tokens), chosen by a seeded
    /// shuffle, are generated anew; the rest keep the source's tokens.
    public static func variation(of ids: [Int32], strength: Double, seed: UInt64) -> TokenEdit {
        let count = min(ids.count, max(0, Int((strength * Double(ids.count)).rounded())))
        // Its own stream, so the run's draws are those of the same seed without an edit.
        var random = SeededRandom(seed: seed ^ 0x5EED_ED17_0000_0001)
        var order = Array(ids.indices)
        order.shuffle(using: &random)
        var regenerate = [Bool](repeating: false, count: ids.count)
        for position in order.prefix(count) { regenerate[position] = true }
        return TokenEdit(ids: ids, regenerate: regenerate)
    }

    /// How many positions the run generates.
    public var regeneratedCount: Int { regenerate.lazy.filter { $0 }.count }

    /// The run's first token map: the source's tokens, the mask token where it generates.
    func initialIDs(maskToken: Int32) -> [Int32] {
        zip(ids, regenerate).map { $1 ? maskToken : $0 }
    }

    func validate(for config: ENATConfiguration) throws(ENATError) {
        guard ids.count == config.tokenCount, regenerate.count == config.tokenCount else {
            throw .invalidInput("an edit needs \(config.tokenCount) tokens and as many mask entries")
        }
        guard ids.allSatisfy({ (0..<Int32(config.codebookSize)).contains($0) }) else {
            throw .invalidInput("an edit's tokens must lie in 0..<\(config.codebookSize)")
        }
        guard regenerate.contains(true) else { throw .invalidInput("an edit must regenerate at least one token") }
    }
}
