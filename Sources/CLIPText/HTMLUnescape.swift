// Mirrors Python's `html.unescape` (what CLIP's `basic_clean` calls twice) and ftfy's stricter
// `unescape_html` (what `ftfy.fix_text` applies first), on Unicode scalars as Python strings are.

/// HTML character references to characters, by the two rule sets CLIP's cleaning uses.
enum HTMLUnescape {
    typealias Scalars = [Unicode.Scalar]

    /// `html.entities.html5`, keyed by name (with or without the ';').
    static let html5: [String: Scalars] = parse(TextCleaningTables.html5Entities)
    /// ftfy's `HTML_ENTITIES`: every html5 name ending in ';' plus its upper-case extras.
    static let ftfyEntities: [String: Scalars] = {
        var table = parse(TextCleaningTables.upperCaseEntities)
        for (name, value) in html5 where name.hasSuffix(";") { table[name] = value }
        return table
    }()

    private static func parse(_ text: String) -> [String: Scalars] {
        var table: [String: Scalars] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "\t")
            let scalars = parts[1].split(separator: " ").map { Unicode.Scalar(UInt32($0, radix: 16)!)! }
            table[String(parts[0])] = scalars
        }
        return table
    }

    static func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }
    static func isHexDigit(_ c: Unicode.Scalar) -> Bool { isDigit(c) || (c >= "a" && c <= "f") || (c >= "A" && c <= "F") }
    static func isASCIIAlphanumeric(_ c: Unicode.Scalar) -> Bool {
        isDigit(c) || (c >= "a" && c <= "z") || (c >= "A" && c <= "Z")
    }

    /// Python's `html.unescape`: the pattern
    /// `&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)` replaced left to right.
    static func unescape(_ s: Scalars) -> Scalars {
        guard s.contains("&") else { return s }
        var out: Scalars = []
        out.reserveCapacity(s.count)
        var i = 0
        let n = s.count
        while i < n {
            guard s[i] == "&" else {
                out.append(s[i])
                i += 1
                continue
            }
            let j = i + 1
            if j < n && s[j] == "#" {
                var k = j + 1, radix = 10
                if k < n && isDigit(s[k]) {
                    while k < n && isDigit(s[k]) { k += 1 }
                } else if k + 1 < n && (s[k] == "x" || s[k] == "X") && isHexDigit(s[k + 1]) {
                    radix = 16
                    k += 1
                    while k < n && isHexDigit(s[k]) { k += 1 }
                } else {
                    // '#' cannot start a name either: no reference here.
                    out.append(s[i])
                    i += 1
                    continue
                }
                let digits = s[(radix == 16 ? j + 2 : j + 1)..<k]
                if k < n && s[k] == ";" { k += 1 }
                out += numericReference(digits, radix: radix)
                i = k
                continue
            }
            var k = j
            while k < n && k - j < 32 && !isNameTerminator(s[k]) { k += 1 }
            guard k > j else {
                out.append(s[i])
                i += 1
                continue
            }
            if k < n && s[k] == ";" { k += 1 }
            let name = Array(s[j..<k])
            out += namedReference(name)
            i = k
        }
        return out
    }

    private static func isNameTerminator(_ c: Unicode.Scalar) -> Bool {
        c == "\t" || c == "\n" || c == "\u{0C}" || c == " " || c == "<" || c == "&" || c == "#" || c == ";"
    }

    /// A named reference: the whole name, else its longest known prefix of at least two
    /// characters followed by the rest, else unchanged.
    private static func namedReference(_ name: Scalars) -> Scalars {
        if let value = html5[string(name)] { return value }
        if name.count > 2 {
            for length in stride(from: name.count - 1, through: 2, by: -1) {
                if let value = html5[string(name[0..<length])] { return value + name[length...] }
            }
        }
        return ["&"] + name
    }

    /// A numeric reference with Python's (HTML5's) replacement rules.
    private static func numericReference(_ digits: ArraySlice<Unicode.Scalar>, radix: Int) -> Scalars {
        var value: UInt32 = 0
        for digit in digits {
            // Saturate: anything past U+10FFFF decodes to U+FFFD however long it is.
            let d = UInt32(Int(String(digit), radix: radix)!)
            value = value > 0x11_0000 ? 0x11_0001 : value * UInt32(radix) + d
        }
        if let replacement = TextCleaningTables.invalidCharacterReferences[value] {
            return replacement.map { Unicode.Scalar($0)! }
        }
        if (0xD800...0xDFFF).contains(value) || value > 0x10_FFFF { return ["\u{FFFD}"] }
        if TextCleaningTables.invalidCodePoints.contains(value) { return [] }
        return [Unicode.Scalar(value)!]
    }

    /// ftfy's `unescape_html`: only `&#?[0-9A-Za-z]{1,24};`, through its entity table; numeric
    /// references through `html.unescape`, kept as they are unless that consumed the ';'.
    static func ftfyUnescape(_ s: Scalars) -> Scalars {
        guard s.contains("&") else { return s }
        var out: Scalars = []
        out.reserveCapacity(s.count)
        var i = 0
        let n = s.count
        while i < n {
            if s[i] == "&" {
                var j = i + 1
                if j < n && s[j] == "#" { j += 1 }
                var k = j
                while k < n && k - j < 24 && isASCIIAlphanumeric(s[k]) { k += 1 }
                if k > j && k < n && s[k] == ";" {
                    let entity = Array(s[i...k])
                    if let value = ftfyEntities[string(entity.dropFirst())] {
                        out += value
                        i = k + 1
                        continue
                    }
                    if j == i + 2 {
                        let decoded = unescape(entity)
                        out += decoded.contains(";") ? entity : decoded
                        i = k + 1
                        continue
                    }
                }
            }
            out.append(s[i])
            i += 1
        }
        return out
    }

    static func string(_ scalars: some Sequence<Unicode.Scalar>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }
}
