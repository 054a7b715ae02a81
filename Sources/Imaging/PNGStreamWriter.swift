import CPNGShim

/// Writes a PNG a few rows at a time and hands out the bytes produced so far, so a large
/// image can be sent (e.g. as HTTP chunks) while it is still being encoded.
///
/// Compressed data becomes available one complete 8 KiB IDAT chunk at a time, the rest on
/// `finish()`. There is no flush: libpng 1.6 cannot emit a partial IDAT on demand.
///
/// Not thread-safe: use one writer from one task at a time.
public final class PNGStreamWriter {
    public let width: Int
    public let height: Int
    public let format: PNGPixelFormat
    private let writer: OpaquePointer

    /// Starts an image; the header chunks are available from `takeOutput()` right away.
    public init(
        width: Int, height: Int, format: PNGPixelFormat = .rgb, compression: PNGCompression = .small
    ) throws(PNGError) {
        var config = try PNGEncoder.makeConfig(
            width: width, height: height, format: format,
            compression: compression)
        var created: OpaquePointer? = nil
        var message = [CChar](repeating: 0, count: Int(CPNG_MESSAGE_CAPACITY))
        let status = message.withUnsafeMutableBufferPointer {
            cpng_writer_create(&config, &created, $0.baseAddress)
        }
        if let error = PNGError(status: status, message: String(shimMessage: message)) {
            throw error
        }
        guard let created else {
            throw PNGError(kind: .outOfMemory, message: "writer was not created")
        }
        self.width = width
        self.height = height
        self.format = format
        self.writer = created
    }

    deinit {
        cpng_writer_destroy(writer)
    }

    /// Appends whole rows, `width * format.channels` bytes each, no padding.
    public func write(rows: UnsafeBufferPointer<UInt8>) throws(PNGError) {
        let rowBytes = width * format.channels
        guard rowBytes > 0, rows.count % rowBytes == 0, let count = UInt32(exactly: rows.count / rowBytes) else {
            throw PNGError(kind: .invalidArgument, message: "\(rows.count) bytes is not a whole number of rows")
        }
        try check(cpng_writer_write_rows(writer, rows.baseAddress, rowBytes, count))
    }

    /// Array convenience for `write(rows:)`.
    public func write(rows: [UInt8]) throws(PNGError) {
        try rows.withUnsafeBufferPointer { (buffer) throws(PNGError) in try write(rows: buffer) }
    }

    /// Ends the image; all `height` rows must have been written.
    public func finish() throws(PNGError) {
        try check(cpng_writer_finish(writer))
    }

    /// The bytes produced since the last call.
    public func takeOutput() -> [UInt8] {
        var count = 0
        guard let bytes = cpng_writer_output(writer, &count), count > 0 else { return [] }
        let output = Array(UnsafeBufferPointer(start: bytes, count: count))
        cpng_writer_consume(writer, count)
        return output
    }

    private func check(_ status: cpng_status) throws(PNGError) {
        if let error = PNGError(status: status, message: String(cString: cpng_writer_message(writer))) {
            throw error
        }
    }
}
