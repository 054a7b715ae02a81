import Dispatch
import Imaging

/// How an image leaves the server: file format, compression and delivered size. Every route
/// that answers images (OpenAI's `output_format`, `output_compression` and `size`; the jobs'
/// same-named parameters; preview frames) reads it here and encodes through `encode`, so
/// one set of rules and messages covers them all.
///
/// The engine always makes a PNG at the model's resolution; anything else is a re-encode of
/// its pixels (resampled first when `side` asks for another size).
struct OutputImageFormat: Sendable, Equatable {
    var format: ImageFormat = .png
    /// OpenAI's `output_compression`: the JPEG/WebP quality, 0...100 (100: WebP lossless).
    /// Accepted and without effect for PNG, as OpenAI documents it (PNG is lossless).
    var compression = ImageEncoder.defaultCompression
    /// Side of the delivered square when it differs from the model's; nil: the model's own.
    var side: Int?

    /// The square sizes a request may ask for besides the model's own: resampled from it.
    /// Below 16 pixels nothing is recognisable; above 2048 the encode costs more than the image.
    static let sides = 16...2048

    static let png = OutputImageFormat()

    init(format: ImageFormat = .png, compression: Int = ImageEncoder.defaultCompression, side: Int? = nil) {
        self.format = format
        self.compression = compression
        self.side = side
    }

    /// Reads `output_format` (`png`, `jpeg` or its alias `jpg`, `webp`; default `png`) and
    /// `output_compression` (0...100; default 100), or a 400 naming the one at fault.
    init(format name: String?, compression: Int?) throws(APIError) {
        if let name {
            let lowered = name.lowercased()
            guard let parsed = ImageFormat(rawValue: lowered == "jpg" ? "jpeg" : lowered) else {
                throw APIError.invalid(
                    "output_format",
                    "'output_format' must be one of \(ImageFormat.allCases.map(\.rawValue).joined(separator: ", ")); got '\(name)'.")
            }
            format = parsed
        }
        if let compression {
            guard ImageEncoder.compressionRange.contains(compression) else {
                throw APIError.invalid(
                    "output_compression",
                    "'output_compression' must be between \(ImageEncoder.compressionRange.lowerBound) and "
                        + "\(ImageEncoder.compressionRange.upperBound); got \(compression).")
            }
            self.compression = compression
        }
    }

    /// Reads `size` for a model that makes `modelSide`-pixel squares: nil for `auto` (or
    /// absent) and the model's own size, else the side of another square in `sides`. Anything
    /// else (not square, out of range, not `WxH`) is a 400 listing what is supported.
    static func side(_ size: String?, modelSide: Int, model: String) throws(APIError) -> Int? {
        guard let size, size != "auto" else { return nil }
        let parts = size.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        let supported =
            "'auto' or '\(modelSide)x\(modelSide)' (what model '\(model)' makes), or a square from "
            + "\(sides.lowerBound)x\(sides.lowerBound) to \(sides.upperBound)x\(sides.upperBound) (resampled from it)"
        guard parts.count == 2, let width = Int(parts[0]), let height = Int(parts[1]), width > 0, height > 0 else {
            throw APIError.invalid("size", "'size' must be WIDTHxHEIGHT: \(supported); got '\(size)'.")
        }
        guard width == height else {
            throw APIError.invalid("size", "Only square sizes are supported: \(supported); got '\(size)'.")
        }
        if width == modelSide { return nil }
        guard sides.contains(width) else {
            throw APIError.invalid("size", "'size' is out of range: \(supported); got '\(size)'.")
        }
        return width
    }

    /// The `size` string of the delivered image.
    func size(modelSide: Int) -> String {
        let side = self.side ?? modelSide
        return "\(side)x\(side)"
    }

    /// The value of `output_format` in responses.
    var name: String { format.rawValue }

    var contentType: String { format.mediaType }

    /// The query string that asks a job's image route for this format (`response_format=url`
    /// links); empty for the default PNG at the model's size.
    var query: String {
        var items: [String] = []
        if format != .png {
            items.append("output_format=\(format.rawValue)")
            if compression != ImageEncoder.defaultCompression { items.append("output_compression=\(compression)") }
        }
        if let side { items.append("size=\(side)x\(side)") }
        return items.isEmpty ? "" : "?" + items.joined(separator: "&")
    }

    /// The model's `png` in this format. `parameters` (A1111's generation-parameters text)
    /// travels in a PNG text chunk or a JPEG comment; WebP carries none. A PNG at the model's
    /// size is passed through, its pixels untouched.
    func encode(png: [UInt8], parameters: String? = nil) throws(APIError) -> [UInt8] {
        if format == .png && side == nil {
            guard let parameters else { return png }
            return PNGTextChunk.inserting(keyword: "parameters", text: parameters, into: png)
        }
        do {
            var image = try ImageDecoder.decode(png, limits: .generated).rgb
            if let side { image = image.resampled(width: side, height: side) }
            guard format == .png else {
                return try ImageEncoder.encode(image, as: format, compression: compression, parameters: parameters)
            }
            // zlib's default level 6, not the model PNGs' level 9 with every filter tried: on
            // a 2048-pixel upscale that took 13 s here, level 6 1.6 s for 7% more bytes.
            let resampled = try PNGEncoder.encode(image, compression: .level(6))
            guard let parameters else { return resampled }
            return PNGTextChunk.inserting(keyword: "parameters", text: parameters, into: resampled)
        } catch {
            throw APIError.internalError("Could not encode the image as \(format.rawValue): \(error).")
        }
    }
}

extension OutputImageFormat {
    /// `encode` off Swift's cooperative pool when it re-encodes: a 2048-pixel image takes a
    /// second or more, and the pool has one thread per core, which every request's handler
    /// (and the probes) share. A pass-through PNG is encoded in place.
    func encoded(png: [UInt8], parameters: String? = nil) async throws(APIError) -> [UInt8] {
        if format == .png && side == nil { return try encode(png: png, parameters: parameters) }
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<[UInt8], APIError>, Never>) in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(returning: Result { () throws(APIError) in try encode(png: png, parameters: parameters) })
            }
        }
        return try result.get()
    }

    /// Reads `output_format`, `output_compression` and `size` from a query string (the job
    /// image and stream routes, and the links `query` builds), ignoring other names. Numbers
    /// are checked as in JSON bodies; `size` needs the model's side.
    init(query: [(name: String, value: String?)], modelSide: Int, model: String) throws(APIError) {
        func value(_ name: String) throws(APIError) -> String? {
            let values = query.filter { $0.name == name }
            guard values.count <= 1 else { throw APIError.invalid(name, "Query parameter '\(name)' is given more than once.") }
            return values.first.map { $0.value ?? "" }
        }
        let compression: Int? = try value("output_compression").map { (text) throws(APIError) -> Int in
            try QueryValue.integer(text, "output_compression")
        }
        try self.init(format: try value("output_format"), compression: compression)
        side = try Self.side(try value("size"), modelSide: modelSide, model: model)
    }
}
