import ModelFiles

// Mirrors the vocabulary of OpenAI CLIP's `simple_tokenizer.py`: the 256 byte symbols, the same
// with `</w>`, one symbol per merge of `bpe_simple_vocab_16e6.txt.gz` (lines 1 ..< 48895), then
// `<|startoftext|>` and `<|endoftext|>`: 49408 ids.

/// CLIP's byte-level BPE merges, as ranks over symbol ids.
public struct BPEVocabulary: Sendable {
    /// Merges read from the file (48894 for CLIP).
    public static let mergeCount = 49152 - 256 - 2
    public let startOfText: Int32
    public let endOfText: Int32
    public var size: Int { Int(endOfText) + 1 }

    struct Merge: Sendable {
        let rank: Int32
        let merged: Int32
    }

    /// `(left id << 32 | right id)` to the merge's rank and the merged symbol's id.
    let ranks: [UInt64: Merge]

    /// CLIP's id layout with no merges: every piece becomes its byte symbols. For models with
    /// random weights (tests, benchmarks), where no merges file is at hand; ids stay below 49408.
    public static let bytesOnly = BPEVocabulary(ranks: [:])

    private init(ranks: [UInt64: Merge]) {
        self.ranks = ranks
        startOfText = Int32(512 + Self.mergeCount)
        endOfText = startOfText + 1
    }

    /// Reads the gzipped merges file that travels with CLIP (and in caption model bundles).
    public init(path: String) throws(CLIPTextError) {
        let bytes: [UInt8]
        do {
            let file = try MappedFile(path: path)
            bytes = Array(file.bytes)
        } catch {
            throw .vocabulary(file: path, reason: "\(error)")
        }
        try self.init(gzipped: bytes, source: path)
    }

    public init(gzipped bytes: [UInt8], source: String = "vocabulary") throws(CLIPTextError) {
        try self.init(text: GzipFile.inflate(bytes, source: source), source: source)
    }

    init(text: [UInt8], source: String) throws(CLIPTextError) {
        guard let content = String(validating: text, as: UTF8.self) else {
            throw .vocabulary(file: source, reason: "not UTF-8")
        }
        let lines = content.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count > Self.mergeCount else {
            throw .vocabulary(file: source, reason: "\(lines.count) lines, expected a header and \(Self.mergeCount) merges")
        }
        // Symbol string to id; a later duplicate would win, as in the original's dict.
        var ids: [String: Int32] = [:]
        ids.reserveCapacity(512 + Self.mergeCount)
        for (index, entry) in ByteEncoder.symbolsInVocabularyOrder.enumerated() {
            ids[String(entry.symbol)] = Int32(index)
            ids[String(entry.symbol) + "</w>"] = Int32(index + 256)
        }
        var merges: [(String, String)] = []
        merges.reserveCapacity(Self.mergeCount)
        for rank in 0..<Self.mergeCount {
            let parts = lines[rank + 1].split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw .vocabulary(file: source, reason: "line \(rank + 2) is not a merge of two symbols")
            }
            merges.append((String(parts[0]), String(parts[1])))
            ids[String(parts[0]) + String(parts[1])] = Int32(512 + rank)
        }
        var ranks: [UInt64: Merge] = [:]
        ranks.reserveCapacity(Self.mergeCount)
        for (rank, (left, right)) in merges.enumerated() {
            guard let l = ids[left], let r = ids[right] else {
                throw .vocabulary(file: source, reason: "line \(rank + 2) merges a symbol the vocabulary lacks")
            }
            ranks[Self.key(l, r)] = Merge(rank: Int32(rank), merged: ids[left + right]!)
        }
        self.ranks = ranks
        startOfText = Int32(512 + Self.mergeCount)
        endOfText = startOfText + 1
    }

    /// BPE of one piece's UTF-8 bytes: symbol ids, the last one marked end-of-word.
    func encode(bytes: some Collection<UInt8>) -> [Int32] {
        var word = bytes.map { ByteEncoder.idOfByte[Int($0)] }
        guard !word.isEmpty else { return [] }
        word[word.count - 1] += 256
        while word.count > 1 {
            var best = Merge(rank: .max, merged: 0), bestIndex = -1
            for k in 0..<(word.count - 1) {
                if let merge = ranks[Self.key(word[k], word[k + 1])], merge.rank < best.rank {
                    best = merge
                    bestIndex = k
                }
            }
            guard bestIndex >= 0 else { break }
            let first = word[bestIndex], second = word[bestIndex + 1], merged = best.merged
            // Every non-overlapping occurrence, left to right, as the original loop does.
            var next: [Int32] = []
            next.reserveCapacity(word.count)
            var k = 0
            while k < word.count {
                if k + 1 < word.count && word[k] == first && word[k + 1] == second {
                    next.append(merged)
                    k += 2
                } else {
                    next.append(word[k])
                    k += 1
                }
            }
            word = next
        }
        return word
    }

    @inline(__always)
    static func key(_ left: Int32, _ right: Int32) -> UInt64 { UInt64(UInt32(left)) << 32 | UInt64(UInt32(right)) }
}
