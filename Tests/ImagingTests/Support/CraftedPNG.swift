import CZlib

/// Builds PNG files chunk by chunk, valid or deliberately not: for colour types libpng's
/// writer is not asked to make here, and for hostile uploads.
struct CraftedPNG {
    var chunks: [(type: String, data: [UInt8])] = []

    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// A non-interlaced image: `rows` are the unfiltered scanlines (each gets filter byte 0).
    init(width: Int, height: Int, bitDepth: UInt8, colorType: UInt8, rows: [[UInt8]], extra: [(String, [UInt8])] = []) {
        chunks.append(("IHDR", Self.ihdr(width: width, height: height, bitDepth: bitDepth, colorType: colorType)))
        for (type, data) in extra { chunks.append((type, data)) }
        chunks.append(("IDAT", Self.deflate(rows.flatMap { [0] + $0 })))
        chunks.append(("IEND", []))
    }

    /// Only the given chunks, in order (IEND is not added).
    init(chunks: [(type: String, data: [UInt8])]) {
        self.chunks = chunks
    }

    var bytes: [UInt8] {
        var output = Self.signature
        for chunk in chunks {
            let typeAndData = Array(chunk.type.utf8) + chunk.data
            output += Self.bigEndian(UInt32(chunk.data.count)) + typeAndData + Self.bigEndian(CRC32.checksum(typeAndData))
        }
        return output
    }

    static func ihdr(width: Int, height: Int, bitDepth: UInt8, colorType: UInt8, interlace: UInt8 = 0) -> [UInt8] {
        bigEndian(UInt32(truncatingIfNeeded: width)) + bigEndian(UInt32(truncatingIfNeeded: height))
            + [bitDepth, colorType, 0, 0, interlace]
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    /// zlib at level 9.
    static func deflate(_ bytes: [UInt8]) -> [UInt8] {
        var length = compressBound(uLong(bytes.count))
        var output = [UInt8](repeating: 0, count: Int(length))
        let status = output.withUnsafeMutableBufferPointer { out in
            bytes.withUnsafeBufferPointer { input in
                compress2(out.baseAddress, &length, input.baseAddress, uLong(bytes.count), 9)
            }
        }
        precondition(status == Z_OK, "compress2 failed")
        return Array(output.prefix(Int(length)))
    }
}
