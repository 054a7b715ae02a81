/// Adds a text chunk to encoded PNG bytes, right after IHDR: `tEXt` when the text is ASCII,
/// else an uncompressed `iTXt` (UTF-8). Image viewers and A1111-style tools read the
/// generation parameters from such a chunk (keyword `parameters`).
public enum PNGTextChunk {
    /// `png` with the chunk inserted; `png` unchanged when it does not start with a PNG
    /// signature and IHDR, or the keyword is not 1-79 printable Latin-1 characters.
    public static func inserting(keyword: String, text: String, into png: [UInt8]) -> [UInt8] {
        let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        // Signature (8) + IHDR: length (4), type (4), 13 data bytes, CRC (4).
        let ihdrEnd = 8 + 4 + 4 + 13 + 4
        guard png.count >= ihdrEnd, Array(png[0..<8]) == signature, Array(png[12..<16]) == Array("IHDR".utf8) else { return png }
        let keywordBytes = Array(keyword.utf8)
        guard (1...79).contains(keywordBytes.count), keywordBytes.allSatisfy({ (32...126).contains($0) }) else { return png }
        let textBytes = Array(text.utf8)
        let type: [UInt8]
        var data = keywordBytes + [0]
        if textBytes.allSatisfy({ $0 < 0x80 && $0 != 0 }) {
            type = Array("tEXt".utf8)
        } else {
            type = Array("iTXt".utf8)
            // Compression flag 0, method 0, empty language tag, empty translated keyword.
            data += [0, 0, 0, 0]
        }
        data += textBytes
        var chunk = bigEndian(UInt32(data.count)) + type + data
        chunk += bigEndian(crc32(type + data))
        return Array(png[0..<ihdrEnd]) + chunk + Array(png[ihdrEnd...])
    }

    /// The text of the first `tEXt` or uncompressed `iTXt` chunk named `keyword`, if any.
    public static func text(keyword: String, in png: [UInt8]) -> String? {
        var offset = 8
        while offset + 12 <= png.count {
            let length = Int(png[offset]) << 24 | Int(png[offset + 1]) << 16 | Int(png[offset + 2]) << 8 | Int(png[offset + 3])
            let type = String(decoding: png[(offset + 4)..<(offset + 8)], as: UTF8.self)
            let start = offset + 8
            guard start + length + 4 <= png.count else { return nil }
            let data = Array(png[start..<(start + length)])
            if type == "tEXt" || type == "iTXt", let zero = data.firstIndex(of: 0),
                String(decoding: data[..<zero], as: UTF8.self) == keyword
            {
                var rest = data[(zero + 1)...]
                if type == "iTXt" {
                    // Compression flag and method, then language tag and translated keyword, each NUL-ended.
                    guard rest.count >= 2, rest[rest.startIndex] == 0 else { return nil }
                    rest = rest.dropFirst(2)
                    for _ in 0..<2 {
                        guard let end = rest.firstIndex(of: 0) else { return nil }
                        rest = rest[(end + 1)...]
                    }
                }
                return String(decoding: rest, as: UTF8.self)
            }
            offset = start + length + 4
        }
        return nil
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    private static let crcTable: [UInt32] = (0..<256).map { n in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    /// The CRC-32 PNG chunks carry (over type and data).
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}
