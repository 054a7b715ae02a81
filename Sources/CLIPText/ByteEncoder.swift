// Mirrors `bytes_to_unicode` of OpenAI CLIP's `simple_tokenizer.py`.

/// CLIP's reversible byte-to-character table: printable bytes stand for themselves, the other
/// 68 bytes for U+0100 onwards, so that BPE never sees whitespace or control characters.
enum ByteEncoder {
    /// The 256 byte symbols in vocabulary order (printable bytes first, as the original dict
    /// is built), each with the byte it stands for.
    static let symbolsInVocabularyOrder: [(byte: UInt8, symbol: Unicode.Scalar)] = {
        let printable = Array(33...126) + Array(161...172) + Array(174...255)
        let printableSet = Set(printable)
        var table = printable.map { (UInt8($0), Unicode.Scalar(UInt8($0))) }
        var extra: UInt32 = 0
        for byte in 0...255 where !printableSet.contains(byte) {
            table.append((UInt8(byte), Unicode.Scalar(256 + extra)!))
            extra += 1
        }
        return table
    }()

    /// The vocabulary id of each byte's symbol (not yet the end of a word).
    static let idOfByte: [Int32] = {
        var ids = [Int32](repeating: 0, count: 256)
        for (index, entry) in symbolsInVocabularyOrder.enumerated() { ids[Int(entry.byte)] = Int32(index) }
        return ids
    }()
}
