import Foundation
import HTTPServer
import ModelBundle

@testable import ImageAPI
@testable import Imaging
@testable import ModelFiles

/// One parser of untrusted input, fed one libFuzzer input at a time. A target may throw or
/// reject anything; it must never trap, read out of bounds or hang.
struct FuzzTarget: Sendable {
    let name: String
    let summary: String
    let run: @Sendable ([UInt8]) -> Void

    static let all: [FuzzTarget] = [
        FuzzTarget(name: "http-request", summary: "HTTPRequestParser, the input split in two at a place it chooses", run: httpRequest),
        FuzzTarget(name: "json-request", summary: "the JSON readers of /v1/images/generations and /v1/jobs", run: jsonRequest),
        FuzzTarget(name: "safetensors", summary: "SafeTensorsFile, every tensor read as floats and ints", run: safeTensors),
        FuzzTarget(name: "zip", summary: "ZipArchive: entries, stored bytes, checksums", run: zip),
        FuzzTarget(name: "pickle", summary: "PickleReader", run: pickle),
        FuzzTarget(name: "torch", summary: "TorchCheckpoint, every tensor read", run: torch),
        FuzzTarget(name: "bundle-config", summary: "a bundle's config.json through BundleConfiguration.decode", run: bundleConfiguration),
        FuzzTarget(name: "png", summary: "PNGDecoder (libpng through CPNGShim), then the resampler", run: png),
        FuzzTarget(name: "jpeg", summary: "JPEGDecoder (libjpeg-turbo through CJPEGShim), then the resampler", run: jpeg),
        FuzzTarget(name: "webp", summary: "WebPDecoder (libwebp), then the resampler", run: webp),
    ]

    static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }

    // MARK: HTTP

    static func httpRequest(_ bytes: [UInt8]) {
        // The first byte picks where the stream is cut, so both halves of a request meet the
        // parser's incremental paths.
        guard let first = bytes.first else { return }
        let data = bytes.dropFirst()
        let cut = data.isEmpty ? data.startIndex : data.startIndex + Int(first) % (data.count + 1)
        var parser = HTTPRequestParser()
        for part in [data[..<cut], data[cut...]] {
            parser.append(part)
            do {
                while let event = try parser.next() {
                    if case .end = event { continue }
                }
            } catch {
                return
            }
        }
    }

    // MARK: JSON bodies

    static func jsonRequest(_ bytes: [UInt8]) {
        if let fields = try? JSONFields(parsing: bytes, allowedKeys: ImageGenerationBody.allowedKeys) {
            _ = try? ImageGenerationBody(fields: fields)
        }
        if let fields = try? JSONFields(parsing: bytes, allowedKeys: JobBody.allowedKeys) {
            _ = try? JobBody(fields: fields)
        }
    }

    // MARK: Model files

    /// SafeTensorsFile reads a memory map, so each input is written to one file of this process.
    static let scratchPath = FileManager.default.temporaryDirectory.appendingPathComponent("enat-fuzz-\(getpid()).safetensors").path

    static func safeTensors(_ bytes: [UInt8]) {
        // Written in place (not atomically): a rename per input would dominate the run.
        guard (try? Data(bytes).write(to: URL(fileURLWithPath: scratchPath))) != nil,
            let file = try? SafeTensorsFile(path: scratchPath)
        else { return }
        for name in file.names {
            _ = try? file.readFloats(name)
            _ = try? file.readInts(name)
        }
    }

    static func zip(_ bytes: [UInt8]) {
        guard let archive = try? ZipArchive(bytes: ZipFileBytes(copying: bytes), source: "fuzz.zip") else { return }
        for entry in archive.entries {
            _ = try? archive.storedBytes(of: entry)
            _ = try? archive.verifyChecksum(of: entry)
        }
    }

    static func pickle(_ bytes: [UInt8]) {
        _ = try? PickleReader(source: "fuzz.pkl").read(bytes)
    }

    static func torch(_ bytes: [UInt8]) {
        guard let checkpoint = try? TorchCheckpoint(bytes: bytes, sourceDescription: "fuzz.pt") else { return }
        for name in checkpoint.names {
            _ = try? checkpoint.readFloats(name)
            _ = try? checkpoint.readInts(name)
        }
    }

    static func bundleConfiguration(_ bytes: [UInt8]) {
        _ = try? BundleConfiguration.decode(json: Data(bytes), file: "config.json")
    }

    // MARK: Uploaded images

    /// Smaller than the server's limits so that each input stays fast and inside libFuzzer's
    /// memory limit; the limit checks themselves are the same code.
    static let imageLimits = ImageDecodingLimits(
        maxInputBytes: 1 << 20, maxWidth: 1024, maxHeight: 1024, maxPixels: 1 << 18, maxJPEGWorkingBytes: 64 << 20)

    /// Each format's decoder is called directly, skipping the magic-byte dispatch, so mutated
    /// signatures still reach the library.
    static func png(_ bytes: [UInt8]) {
        resample(try? PNGDecoder.decode(bytes, limits: imageLimits))
    }

    static func jpeg(_ bytes: [UInt8]) {
        resample(try? JPEGDecoder.decode(bytes, limits: imageLimits))
    }

    static func webp(_ bytes: [UInt8]) {
        resample(try? WebPDecoder.decode(bytes, limits: imageLimits))
    }

    /// A decoded image goes on through the resampler, both ways, as an upload would.
    static func resample(_ decoded: DecodedImage?) {
        guard let decoded else { return }
        _ = decoded.resampled(width: 7, height: 5)
        _ = decoded.fittedToSquare(side: 9)
    }
}
