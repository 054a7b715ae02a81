import Foundation

// Mirrors `ftfy.fix_text` with its default settings (ftfy 6), which OpenAI CLIP's `basic_clean`
// runs first. Reproduced: HTML entities (only on lines without '<', as ftfy's "auto" does), C1
// controls read as Windows-1252, Latin ligatures, full/half-width forms, curly quotes, line
// breaks, terminal escapes, control characters, NFC; repeated until nothing changes. Not
// reproduced: `fix_encoding`, ftfy's heuristic repair of mojibake ("cafÃ©" stays as it is).

/// ftfy's character fixes on a caption.
enum TextFixer {
    typealias Scalars = [Unicode.Scalar]

    static let ligatures: [UInt32: String] = [
        0x132: "IJ", 0x133: "ij", 0x149: "\u{02BC}n", 0x1F1: "DZ", 0x1F2: "Dz", 0x1F3: "dz", 0x1C4: "D\u{017D}",
        0x1C5: "D\u{017E}", 0x1C6: "d\u{017E}", 0x1C7: "LJ", 0x1C8: "Lj", 0x1C9: "lj", 0x1CA: "NJ", 0x1CB: "Nj",
        0x1CC: "nj", 0xFB00: "ff", 0xFB01: "fi", 0xFB02: "fl", 0xFB03: "ffi", 0xFB04: "ffl", 0xFB05: "\u{017F}t",
        0xFB06: "st",
    ]

    /// `fix_text`: line by line (each keeps its '\n'); once a line holds '<', entities are left
    /// alone on it and on every later line (ftfy turns its "auto" setting off for good).
    static func fix(_ text: Scalars) -> Scalars {
        var out: Scalars = []
        out.reserveCapacity(text.count)
        var start = 0, unescape = true
        while start < text.count {
            var end = start
            while end < text.count && text[end] != "\n" { end += 1 }
            end = min(end + 1, text.count)
            let segment = Array(text[start..<end])
            if segment.contains("<") { unescape = false }
            out += fixSegment(segment, unescape: unescape)
            start = end
        }
        return out
    }

    /// `fix_and_explain` on one segment: every fixer in ftfy's order, until a fixed point.
    static func fixSegment(_ segment: Scalars, unescape: Bool) -> Scalars {
        var text = segment
        while true {
            let original = text
            if unescape { text = HTMLUnescape.ftfyUnescape(text) }
            text = text.flatMap(fixCharacter)
            text = lineBreaks(text)
            text = removeTerminalEscapes(text)
            text = text.filter { !isControl($0.value) }
            text = nfc(text)
            if text == original { return text }
        }
    }

    /// C1 controls, ligatures, widths and quotes: each maps one character independently.
    private static func fixCharacter(_ c: Unicode.Scalar) -> Scalars {
        let v = c.value
        if (0x80...0x9F).contains(v), let mapped = TextCleaningTables.invalidCharacterReferences[v] {
            return mapped.map { Unicode.Scalar($0)! }.flatMap(fixCharacterAfterC1)
        }
        return fixCharacterAfterC1(c)
    }

    private static func fixCharacterAfterC1(_ c: Unicode.Scalar) -> Scalars {
        var scalars: Scalars = [c]
        if let ligature = ligatures[c.value] { scalars = Array(ligature.unicodeScalars) }
        scalars = scalars.flatMap { s -> Scalars in
            TextCleaningTables.widthMap[s.value].map { $0.map { Unicode.Scalar($0)! } } ?? [s]
        }
        return scalars.map { s in
            switch s.value {
            case 0x2BC, 0x2018...0x201B: "'"
            case 0x201C...0x201F: "\""
            default: s
            }
        }
    }

    private static func lineBreaks(_ text: Scalars) -> Scalars {
        var out: Scalars = []
        out.reserveCapacity(text.count)
        var i = 0
        while i < text.count {
            let c = text[i]
            if c == "\r" && i + 1 < text.count && text[i + 1] == "\n" {
                out.append("\n")
                i += 2
                continue
            }
            out.append(c == "\r" || c == "\u{2028}" || c == "\u{2029}" || c == "\u{85}" ? "\n" : c)
            i += 1
        }
        return out
    }

    /// `\x1b\[((?:\d|;)*)([a-zA-Z])` removed (`\d`: any decimal digit, as Python's `re`).
    private static func removeTerminalEscapes(_ text: Scalars) -> Scalars {
        guard text.contains("\u{1B}") else { return text }
        var out: Scalars = []
        var i = 0
        while i < text.count {
            if text[i] == "\u{1B}" && i + 1 < text.count && text[i + 1] == "[" {
                var j = i + 2
                while j < text.count && (text[j] == ";" || text[j].properties.generalCategory == .decimalNumber) { j += 1 }
                if j < text.count && ((text[j] >= "a" && text[j] <= "z") || (text[j] >= "A" && text[j] <= "Z")) {
                    i = j + 1
                    continue
                }
            }
            out.append(text[i])
            i += 1
        }
        return out
    }

    /// ftfy's `CONTROL_CHARS`.
    static func isControl(_ v: UInt32) -> Bool {
        switch v {
        case 0x00...0x08, 0x0B, 0x0E...0x1F, 0x7F, 0x206A...0x206F, 0xFEFF, 0xFFF9...0xFFFC: true
        default: false
        }
    }

    static func nfc(_ text: Scalars) -> Scalars {
        // ASCII is already in NFC: skip Foundation for the common case.
        if text.allSatisfy({ $0.isASCII }) { return text }
        return Array(HTMLUnescape.string(text).precomposedStringWithCanonicalMapping.unicodeScalars)
    }
}
