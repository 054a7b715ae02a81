extension RGBImage {
    /// Resizes by sampling the nearest source pixel: blocky on purpose, so tiny model outputs
    /// and latent-sized previews stay crisp when shown large.
    public func scaledNearest(width newWidth: Int, height newHeight: Int) -> RGBImage {
        precondition(newWidth >= 0 && newHeight >= 0, "negative image size")
        precondition(
            (newWidth == 0 && newHeight == 0) || (width > 0 && height > 0),
            "cannot scale an empty image to a non-empty one")
        // Source column per output column, computed once rather than per row.
        let sourceColumns = (0..<newWidth).map { $0 * width / newWidth }
        var output = [UInt8](repeating: 0, count: newWidth * newHeight * 3)
        var previousSourceRow = -1
        for y in 0..<newHeight {
            let sourceRow = y * height / newHeight
            let rowStart = y * newWidth * 3
            if sourceRow == previousSourceRow {
                // Upscaling repeats rows: copy the one just made instead of resampling it.
                output.withUnsafeMutableBufferPointer { buffer in
                    let base = buffer.baseAddress!
                    (base + rowStart).update(from: base + rowStart - newWidth * 3, count: newWidth * 3)
                }
                continue
            }
            previousSourceRow = sourceRow
            for x in 0..<newWidth {
                let source = (sourceRow * width + sourceColumns[x]) * 3
                output[rowStart + 3 * x] = pixels[source]
                output[rowStart + 3 * x + 1] = pixels[source + 1]
                output[rowStart + 3 * x + 2] = pixels[source + 2]
            }
        }
        return RGBImage(width: newWidth, height: newHeight, pixels: output)
    }

    /// Enlarges by a whole `factor` in both directions, each pixel becoming a square block.
    public func upscaled(by factor: Int) -> RGBImage {
        precondition(factor >= 1, "upscale factor must be at least 1")
        return scaledNearest(width: width * factor, height: height * factor)
    }
}
