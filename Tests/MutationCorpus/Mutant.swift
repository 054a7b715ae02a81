import TestSupport

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
        var generator = SplitMix64(seed: seed)
        let kinds = Dictionary(grouping: self, by: \.kind)
        return kinds.keys.sorted().flatMap { kinds[$0]!.shuffled(using: &generator).prefix(perKind) }
    }
}
