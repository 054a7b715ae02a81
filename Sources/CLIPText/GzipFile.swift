import CZlib

/// Whole-file gzip decompression through zlib (the CLIP vocabulary ships as `.txt.gz`).
enum GzipFile {
    /// Refuses to inflate past this size: the real vocabulary is 1.4 MB, and a hostile file
    /// must not fill memory.
    static let maximumInflatedBytes = 64 << 20

    static func inflate(_ compressed: [UInt8], source: String) throws(CLIPTextError) -> [UInt8] {
        var stream = z_stream()
        // 16 + MAX_WBITS: expect a gzip header and trailer, not a raw zlib stream.
        guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .vocabulary(file: source, reason: "zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var status: Int32 = Z_OK
        try compressed.withUnsafeBufferPointer { (input) throws(CLIPTextError) in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.avail_in = uInt(input.count)
            repeat {
                status = chunk.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(out.count)
                    return CZlib.inflate(&stream, Z_NO_FLUSH)
                }
                guard status == Z_OK || status == Z_STREAM_END else {
                    throw .vocabulary(file: source, reason: "corrupt gzip data (zlib status \(status))")
                }
                let produced = chunk.count - Int(stream.avail_out)
                output.append(contentsOf: chunk[0..<produced])
                guard output.count <= maximumInflatedBytes else {
                    throw .vocabulary(file: source, reason: "inflates to more than \(maximumInflatedBytes) bytes")
                }
                if status == Z_OK && produced == 0 && stream.avail_in == 0 {
                    throw .vocabulary(file: source, reason: "truncated gzip data")
                }
            } while status != Z_STREAM_END
        }
        return output
    }
}
