import ArgumentParser
import Imaging

/// The file format of `enat generate`'s output and frames: --format, else -o's extension.
extension GenerateCommand {
    /// The chosen format and compression, or a ValidationError in a person's words.
    func outputEncoding() throws -> (format: ImageFormat, compression: Int) {
        let chosen: ImageFormat
        if let format {
            let name = format.lowercased()
            guard let parsed = ImageFormat(rawValue: name == "jpg" ? "jpeg" : name) else {
                throw ValidationError("--format must be png, jpeg or webp; got '\(format)'")
            }
            chosen = parsed
        } else {
            guard let fromName = ImageFormat(fileName: output) else {
                throw ValidationError(
                    "cannot tell the image format from -o \(output): end it in .png, .jpg, .jpeg or .webp, or give --format")
            }
            chosen = fromName
        }
        if let compression {
            guard chosen != .png else {
                throw ValidationError("--compression applies to jpeg and webp; PNG output is lossless")
            }
            guard ImageEncoder.compressionRange.contains(compression) else {
                throw ValidationError("--compression must be 0...100; got \(compression)")
            }
        }
        return (chosen, compression ?? ImageEncoder.defaultCompression)
    }

    /// `png` (the model's own encoding) in the chosen format. PNG passes through untouched;
    /// other formats re-encode its pixels.
    static func transcode(
        _ png: [UInt8], to encoding: (format: ImageFormat, compression: Int), parameters: String?
    ) throws -> [UInt8] {
        guard encoding.format != .png else { return png }
        let pixels = try ImageDecoder.decode(png, limits: .generated).rgb
        return try ImageEncoder.encode(pixels, as: encoding.format, compression: encoding.compression, parameters: parameters)
    }
}
