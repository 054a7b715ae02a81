// Mirrors the `findall` of OpenAI CLIP's pattern (`simple_tokenizer.py`, `regex` module,
// IGNORECASE):
//   <\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+
// written out by hand: at each position the alternatives are tried in this order, and a
// position that none matches (whitespace) is skipped.

/// Splits a cleaned caption into the pieces that BPE encodes one by one.
enum PreTokenizer {
    typealias Scalars = [Unicode.Scalar]

    static let specials: [Scalars] = [Array("<|startoftext|>".unicodeScalars), Array("<|endoftext|>".unicodeScalars)]
    static let contractions: [Scalars] = ["s", "t", "re", "ve", "m", "ll", "d"].map { Array($0.unicodeScalars) }

    enum Kind { case letter, number, space, other }

    static func kind(_ c: Unicode.Scalar) -> Kind {
        switch c.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return .letter
        case .decimalNumber, .letterNumber, .otherNumber: return .number
        default: return TextCleaning.isSpace(c) || c.properties.isWhitespace ? .space : .other
        }
    }

    static func pieces(_ text: Scalars) -> [Scalars] {
        var pieces: [Scalars] = []
        var i = 0
        let n = text.count
        scan: while i < n {
            for special in specials where matches(text, at: i, special) {
                pieces.append(special)
                i += special.count
                continue scan
            }
            if text[i] == "'" {
                for contraction in contractions where matchesIgnoringCase(text, at: i + 1, contraction) {
                    pieces.append(Array(text[i...(i + contraction.count)]))
                    i += 1 + contraction.count
                    continue scan
                }
            }
            var j = i
            switch kind(text[i]) {
            case .letter:
                while j < n && kind(text[j]) == .letter { j += 1 }
            case .number:
                j += 1
            case .other:
                while j < n && kind(text[j]) == .other { j += 1 }
            case .space:
                i += 1
                continue scan
            }
            pieces.append(Array(text[i..<j]))
            i = j
        }
        return pieces
    }

    private static func matches(_ text: Scalars, at start: Int, _ word: Scalars) -> Bool {
        guard start + word.count <= text.count else { return false }
        for (k, c) in word.enumerated() where text[start + k] != c { return false }
        return true
    }

    /// Case-insensitive as the `regex` module's simple case folding: on lower-cased text the
    /// only other character that folds onto one of these letters is U+017F (long s).
    private static func matchesIgnoringCase(_ text: Scalars, at start: Int, _ word: Scalars) -> Bool {
        guard start + word.count <= text.count else { return false }
        for (k, c) in word.enumerated() {
            let t = text[start + k]
            if t != c && !(c == "s" && t == "\u{017F}") && t.properties.lowercaseMapping != String(c) { return false }
        }
        return true
    }
}
