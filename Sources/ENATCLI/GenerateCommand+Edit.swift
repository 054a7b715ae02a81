import ArgumentParser
import Foundation
import Imaging
import ModelBundle

/// `enat generate --image`: inpainting and variations from the command line, the server's
/// edit (`POST /v1/images/edits`) on the calling thread.
extension GenerateCommand {
    func validateEditOptions() throws {
        if image == nil, mask != nil || strength != nil { throw ValidationError("--mask and --strength need --image") }
        if mask != nil, strength != nil { throw ValidationError("give --mask or --strength, not both: with a mask the mask decides") }
        if let strength, !(strength > 0 && strength <= 1) { throw ValidationError("--strength must be in (0, 1]; got \(strength)") }
    }

    /// The edit `--image` asks for on `loaded`, or nil without `--image`.
    func imageEdit(for loaded: LoadedModel) throws -> ImageEdit? {
        guard let image else { return nil }
        guard loaded.canEdit else { throw GenerateError(description: "model \(loaded.id) cannot edit images: its bundle has no VQGAN encoder") }
        let source = try Self.readImage(image, flag: "--image")
        let maskImage = try mask.map { try Self.readImage($0, flag: "--mask") }
        let edit: ImageEdit
        do {
            edit = try ImageEdit(image: source, mask: maskImage, strength: strength, side: loaded.imageSize)
        } catch {
            throw GenerateError(description: "--\(error.input.rawValue): \(error.description)")
        }
        do {
            try loaded.validate(edit)
        } catch {
            throw GenerateError(description: "--\(mask != nil ? "mask" : strength != nil ? "strength" : "image"): \(error)")
        }
        return edit
    }

    private static func readImage(_ path: String, flag: String) throws -> DecodedImage {
        let bytes: [UInt8]
        do {
            bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw GenerateError(description: "cannot read \(flag) \(path): \(OutputPath.reason(error))")
        }
        do {
            return try ImageDecoder.decode(bytes, limits: .uploads)
        } catch {
            throw GenerateError(description: "\(flag) \(path) is not a usable image: \(error)")
        }
    }
}
