import CZlib

/// A PNG decoder written for the tests, sharing no code with libpng: it parses chunks,
/// verifies every CRC, inflates IDAT with zlib and undoes all five row filters, so the
/// encoder's output is checked against the PNG specification rather than against itself.
/// Handles what the encoder writes: 8-bit RGB/RGBA, non-interlaced.
struct ReferencePNGDecoder {
    struct Chunk {
        let type: String
        let data: [UInt8]
    }

    struct Image {
        let width: Int
        let height: Int
        let channels: Int
        let pixels: [UInt8]
        /// Chunk types in file order.
        let chunkTypes: [String]
        /// The filter type byte of each row, 0 ... 4.
        let rowFilters: [UInt8]
        /// The zlib stream's FLEVEL field (0 fastest ... 3 maximum compression).
        let zlibLevelFlag: Int
    }

    struct DecodeError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    static let signature: [UInt8] = [137, 80, 78, 71, 13, 10, 26, 10]

    /// Splits a file into chunks, checking the signature, every CRC and that IEND ends it.
    static func chunks(of bytes: [UInt8]) throws -> [Chunk] {
        guard bytes.starts(with: signature) else { throw DecodeError("bad signature") }
        var chunks: [Chunk] = []
        var offset = signature.count
        while offset < bytes.count {
            guard bytes.count - offset >= 12 else { throw DecodeError("truncated chunk header") }
            let length = Int(readUInt32(bytes, at: offset))
            guard length <= bytes.count - offset - 12 else { throw DecodeError("truncated chunk data") }
            let typeBytes = Array(bytes[(offset + 4)..<(offset + 8)])
            let data = Array(bytes[(offset + 8)..<(offset + 8 + length)])
            let storedCRC = readUInt32(bytes, at: offset + 8 + length)
            guard CRC32.checksum(typeBytes + data) == storedCRC else {
                throw DecodeError("CRC mismatch in chunk \(String(decoding: typeBytes, as: UTF8.self))")
            }
            chunks.append(Chunk(type: String(decoding: typeBytes, as: UTF8.self), data: data))
            offset += 12 + length
            if chunks.last?.type == "IEND" { break }
        }
        guard offset == bytes.count, chunks.last?.type == "IEND", chunks.last?.data.isEmpty == true else {
            throw DecodeError("missing IEND or data after it")
        }
        return chunks
    }

    static func decode(_ bytes: [UInt8]) throws -> Image {
        let chunks = try chunks(of: bytes)
        guard let header = chunks.first, header.type == "IHDR", header.data.count == 13 else {
            throw DecodeError("IHDR must come first")
        }
        let width = Int(readUInt32(header.data, at: 0))
        let height = Int(readUInt32(header.data, at: 4))
        let (bitDepth, colorType) = (header.data[8], header.data[9])
        let (compression, filterMethod, interlace) = (header.data[10], header.data[11], header.data[12])
        guard width > 0, height > 0 else { throw DecodeError("zero size") }
        guard bitDepth == 8, compression == 0, filterMethod == 0, interlace == 0 else {
            throw DecodeError("unsupported IHDR fields")
        }
        let channels: Int
        switch colorType {
        case 2: channels = 3
        case 6: channels = 4
        default: throw DecodeError("unsupported colour type \(colorType)")
        }

        // IDAT chunks must be consecutive; their concatenation is one zlib stream.
        let idatIndices = chunks.indices.filter { chunks[$0].type == "IDAT" }
        guard let firstIDAT = idatIndices.first,
            idatIndices == Array(firstIDAT..<(firstIDAT + idatIndices.count))
        else {
            throw DecodeError("IDAT chunks missing or not consecutive")
        }
        let compressed = idatIndices.flatMap { chunks[$0].data }
        guard compressed.count >= 2 else { throw DecodeError("IDAT too short") }

        let rowBytes = width * channels
        let filtered = try inflateExactly(compressed, expectedCount: height * (rowBytes + 1))
        let (pixels, rowFilters) = try unfilter(
            filtered, rowBytes: rowBytes, height: height,
            bytesPerPixel: channels)
        return Image(
            width: width, height: height, channels: channels, pixels: pixels,
            chunkTypes: chunks.map(\.type), rowFilters: rowFilters,
            zlibLevelFlag: Int(compressed[1] >> 6))
    }

    /// Inflates a complete zlib stream that must decode to exactly `expectedCount` bytes and
    /// have nothing after it.
    static func inflateExactly(_ compressed: [UInt8], expectedCount: Int) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: expectedCount + 1)
        var outputLength = uLongf(output.count)
        var inputLength = uLong(compressed.count)
        let status = output.withUnsafeMutableBufferPointer { out in
            compressed.withUnsafeBufferPointer { input in
                uncompress2(out.baseAddress, &outputLength, input.baseAddress, &inputLength)
            }
        }
        guard status == Z_OK else { throw DecodeError("zlib error \(status)") }
        guard Int(outputLength) == expectedCount else {
            throw DecodeError("inflated \(outputLength) bytes, expected \(expectedCount)")
        }
        guard Int(inputLength) == compressed.count else { throw DecodeError("data after zlib stream") }
        return Array(output.prefix(expectedCount))
    }

    /// Undoes the per-row filters (PNG specification, section 9).
    static func unfilter(
        _ data: [UInt8], rowBytes: Int, height: Int, bytesPerPixel: Int
    ) throws -> (pixels: [UInt8], filters: [UInt8]) {
        var pixels = [UInt8](repeating: 0, count: rowBytes * height)
        var filters: [UInt8] = []
        for row in 0..<height {
            let filter = data[row * (rowBytes + 1)]
            filters.append(filter)
            let source = row * (rowBytes + 1) + 1
            let target = row * rowBytes
            for index in 0..<rowBytes {
                let raw = data[source + index]
                let left = index >= bytesPerPixel ? Int(pixels[target + index - bytesPerPixel]) : 0
                let up = row > 0 ? Int(pixels[target - rowBytes + index]) : 0
                let upLeft =
                    row > 0 && index >= bytesPerPixel
                    ? Int(pixels[target - rowBytes + index - bytesPerPixel]) : 0
                let predictor: Int
                switch filter {
                case 0: predictor = 0
                case 1: predictor = left
                case 2: predictor = up
                case 3: predictor = (left + up) / 2
                case 4: predictor = paeth(left: left, up: up, upLeft: upLeft)
                default: throw DecodeError("bad filter type \(filter) in row \(row)")
                }
                pixels[target + index] = raw &+ UInt8(truncatingIfNeeded: predictor)
            }
        }
        return (pixels, filters)
    }

    static func paeth(left: Int, up: Int, upLeft: Int) -> Int {
        let estimate = left + up - upLeft
        let (distanceLeft, distanceUp, distanceUpLeft) =
            (abs(estimate - left), abs(estimate - up), abs(estimate - upLeft))
        if distanceLeft <= distanceUp && distanceLeft <= distanceUpLeft { return left }
        if distanceUp <= distanceUpLeft { return up }
        return upLeft
    }

    static func readUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        bytes[offset..<(offset + 4)].reduce(0) { $0 << 8 | UInt32($1) }
    }
}

/// CRC-32 as the PNG specification defines it (reflected polynomial 0xEDB88320).
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { entry in
        var value = UInt32(entry)
        for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    static func checksum(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}
