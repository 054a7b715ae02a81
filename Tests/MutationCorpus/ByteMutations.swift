import TestSupport

/// Mutations that know nothing of the format: cut files and flipped bits.
public enum ByteMutations {
    /// The file cut at fixed places (empty, inside the first bytes, the middle, one byte short)
    /// and at `random` seeded places; `marks` adds format-specific places (end of a header).
    public static func truncated(_ bytes: [UInt8], marks: [Int] = [], random: Int = 4, seed: UInt64) -> [Mutant] {
        var generator = SplitMix64(seed: seed)
        var lengths = [0, 1, 4, 7, 8, 16, bytes.count / 2, bytes.count - 1] + marks.flatMap { [$0 - 1, $0, $0 + 1] }
        if bytes.count > 1 { lengths += (0..<random).map { _ in Int.random(in: 0..<bytes.count, using: &generator) } }
        return Set(lengths.filter { $0 >= 0 && $0 < bytes.count }).sorted().map {
            Mutant(kind: "truncated", detail: "to \($0) of \(bytes.count) bytes", bytes: Array(bytes[..<$0]))
        }
    }

    /// `count` copies, each with `flips` seeded bit flips inside `range` (the whole file by default).
    public static func bitFlipped(_ bytes: [UInt8], in range: Range<Int>? = nil, count: Int, flips: Int, seed: UInt64) -> [Mutant] {
        let range = range ?? 0..<bytes.count
        guard !range.isEmpty else { return [] }
        var generator = SplitMix64(seed: seed)
        return (0..<count).map { copy in
            var mutated = bytes
            var positions: [String] = []
            for _ in 0..<flips {
                let at = Int.random(in: range, using: &generator), bit = Int.random(in: 0..<8, using: &generator)
                mutated[at] ^= UInt8(1) << bit
                positions.append("\(at):\(bit)")
            }
            return Mutant(kind: "bit-flipped", detail: "copy \(copy) at \(positions.joined(separator: ","))", bytes: mutated)
        }
    }

    /// `count` copies with a seeded run of 8 bytes overwritten by all-ones (huge counts and
    /// lengths in binary formats) or zeros.
    public static func overwritten(_ bytes: [UInt8], count: Int, seed: UInt64) -> [Mutant] {
        guard bytes.count >= 8 else { return [] }
        var generator = SplitMix64(seed: seed)
        return (0..<count).map { copy in
            var mutated = bytes
            let at = Int.random(in: 0...(bytes.count - 8), using: &generator)
            let value: UInt8 = copy % 2 == 0 ? 0xFF : 0x00
            for i in at..<(at + 8) { mutated[i] = value }
            return Mutant(kind: "overwritten", detail: "8 bytes of \(value) at \(at)", bytes: mutated)
        }
    }
}
