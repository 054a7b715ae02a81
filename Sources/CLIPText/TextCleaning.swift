// Mirrors `basic_clean`, `whitespace_clean` and the `.lower()` of OpenAI CLIP's
// `simple_tokenizer.py`: `ftfy.fix_text`, `html.unescape` twice, strip, runs of whitespace to
// one space, strip, lower-case, all with Python's definitions of whitespace and lower case.

/// CLIP's caption cleaning.
public enum TextCleaning {
    /// The cleaned caption, as the tokenizer's pre-tokenizer sees it.
    public static func clean(_ text: String) -> String {
        HTMLUnescape.string(cleanScalars(Array(text.unicodeScalars)))
    }

    static func cleanScalars(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        let unescaped = strip(HTMLUnescape.unescape(HTMLUnescape.unescape(TextFixer.fix(text))))
        var collapsed: [Unicode.Scalar] = []
        collapsed.reserveCapacity(unescaped.count)
        var inSpace = false
        for c in unescaped {
            if isSpace(c) {
                if !inSpace { collapsed.append(" ") }
                inSpace = true
            } else {
                collapsed.append(c)
                inSpace = false
            }
        }
        return lowercased(strip(collapsed))
    }

    /// Python's `str.isspace()`: what `re`'s `\s` and `str.strip()` match.
    static func isSpace(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: true
        default: false
        }
    }

    static func strip(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var start = 0, end = text.count
        while start < end && isSpace(text[start]) { start += 1 }
        while end > start && isSpace(text[end - 1]) { end -= 1 }
        return Array(text[start..<end])
    }

    /// Python's `str.lower()`: full lower-case mappings, and capital sigma as final sigma where
    /// a cased letter precedes it and none follows (case-ignorable characters skipped).
    static func lowercased(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        for (i, c) in text.enumerated() {
            if c.isASCII {
                out.append(c >= "A" && c <= "Z" ? Unicode.Scalar(c.value + 32)! : c)
            } else if c == "\u{03A3}" {
                out.append(isFinalSigma(text, at: i) ? "\u{03C2}" : "\u{03C3}")
            } else {
                out += c.properties.lowercaseMapping.unicodeScalars
            }
        }
        return out
    }

    private static func isFinalSigma(_ text: [Unicode.Scalar], at i: Int) -> Bool {
        var j = i - 1
        while j >= 0 && text[j].properties.isCaseIgnorable { j -= 1 }
        guard j >= 0 && text[j].properties.isCased else { return false }
        j = i + 1
        while j < text.count && text[j].properties.isCaseIgnorable { j += 1 }
        return j == text.count || !text[j].properties.isCased
    }
}
