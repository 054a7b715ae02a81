/// SplitMix64: the same mutations on every machine and every run, so a failing case can be
/// named and replayed.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// One mutated file: what was done to it (for the failure message) and its bytes.
public struct Mutant: Sendable {
    /// The class of mutation (`truncated`, `bit-flipped`, `huge-dim`, ...).
    public let kind: String
    /// The class and its particulars, enough to rebuild the case by hand.
    public let name: String
    public let bytes: [UInt8]

    public init(kind: String, detail: String, bytes: [UInt8]) {
        self.kind = kind
        name = "\(kind) \(detail)"
        self.bytes = bytes
    }
}

extension Array where Element == Mutant {
    /// At most `perKind` of each kind, seeded: a smaller corpus with every class still in it,
    /// for files whose every check is slow.
    public func sampled(perKind: Int, seed: UInt64) -> [Mutant] {
        var generator = SeededGenerator(seed: seed)
        let kinds = Dictionary(grouping: self, by: \.kind)
        return kinds.keys.sorted().flatMap { kinds[$0]!.shuffled(using: &generator).prefix(perKind) }
    }
}
