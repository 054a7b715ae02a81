import Foundation

/// Resizes 8-bit interleaved images with a proper filter, one axis at a time.
///
/// Shrinking an axis averages the source area each target pixel covers (exact box
/// integration, so no source pixel is skipped and a checkerboard turns grey, not into moiré).
/// Enlarging an axis uses Lanczos-3 (sharp; its slight overshoot is clamped to 0...255).
/// With alpha, colours are weighted by alpha (premultiplied) so transparent pixels do not bleed
/// their stored colour into their neighbours.
enum Resampler {
    /// Weights of one axis: for target index `i`, source indices `starts[i] ..< starts[i] + counts[i]`
    /// with weights `weights[i * taps ..< i * taps + counts[i]]`, summing to 1.
    struct Axis {
        let starts: [Int]
        let counts: [Int]
        let weights: [Float]
        let taps: Int

        init(source: Int, target: Int) {
            let scale = Double(source) / Double(target)
            var starts = [Int](repeating: 0, count: target)
            var counts = [Int](repeating: 0, count: target)
            if target < source {
                // Each target pixel covers [i * scale, (i + 1) * scale) of the source.
                let taps = Int(scale.rounded(.up)) + 1
                var weights = [Float](repeating: 0, count: target * taps)
                for i in 0..<target {
                    let low = Double(i) * scale, high = min(Double(source), Double(i + 1) * scale)
                    let first = Int(low.rounded(.down)), last = min(source, Int(high.rounded(.up)))
                    starts[i] = first
                    counts[i] = last - first
                    for j in first..<last {
                        let overlap = min(high, Double(j + 1)) - max(low, Double(j))
                        weights[i * taps + j - first] = Float(overlap / scale)
                    }
                }
                self.init(starts: starts, counts: counts, weights: weights, taps: taps)
            } else {
                // Pixel centres aligned: target centre i + 0.5 sits at source (i + 0.5) * scale.
                // Taps beyond an edge repeat the edge pixel (their weights fold onto it).
                let radius = 3
                let taps = 2 * radius
                var weights = [Float](repeating: 0, count: target * taps)
                for i in 0..<target {
                    let centre = (Double(i) + 0.5) * scale - 0.5
                    let base = Int(centre.rounded(.down)) - radius + 1
                    let first = max(0, base), last = min(source - 1, base + taps - 1)
                    starts[i] = first
                    counts[i] = last - first + 1
                    var local = [Double](repeating: 0, count: taps)
                    var total = 0.0
                    for k in 0..<taps {
                        let j = min(max(base + k, 0), source - 1)
                        let weight = Axis.lanczos3(centre - Double(base + k))
                        local[j - first] += weight
                        total += weight
                    }
                    for k in 0..<counts[i] { weights[i * taps + k] = Float(local[k] / total) }
                }
                self.init(starts: starts, counts: counts, weights: weights, taps: taps)
            }
        }

        private init(starts: [Int], counts: [Int], weights: [Float], taps: Int) {
            self.starts = starts
            self.counts = counts
            self.weights = weights
            self.taps = taps
        }

        static func lanczos3(_ x: Double) -> Double {
            let x = abs(x)
            if x < 1e-9 { return 1 }
            if x >= 3 { return 0 }
            let px = Double.pi * x
            return 3 * sin(px) * sin(px / 3) / (px * px)
        }
    }

    /// Resamples `channels`-byte pixels (3, or 4 with alpha last) to `targetWidth x targetHeight`.
    static func resample(
        _ pixels: [UInt8], width: Int, height: Int, channels: Int, targetWidth: Int, targetHeight: Int
    ) -> [UInt8] {
        precondition(channels == 3 || channels == 4, "3 or 4 channels")
        precondition(width > 0 && height > 0 && targetWidth > 0 && targetHeight > 0, "image sizes must be positive")
        precondition(pixels.count == width * height * channels, "pixel count does not match size")
        if width == targetWidth && height == targetHeight { return pixels }
        let columns = Axis(source: width, target: targetWidth)
        let rows = Axis(source: height, target: targetHeight)
        let premultiplied = channels == 4
        let rowFloats = targetWidth * channels

        // Pass 1: every source row to the target width, as floats (premultiplied with alpha).
        var horizontal = [Float](repeating: 0, count: height * rowFloats)
        pixels.withUnsafeBufferPointer { source in
            horizontal.withUnsafeMutableBufferPointer { output in
                columns.weights.withUnsafeBufferPointer { weights in
                    for y in 0..<height {
                        let sourceRow = y * width * channels, outputRow = y * rowFloats
                        for x in 0..<targetWidth {
                            var sums: (Float, Float, Float, Float) = (0, 0, 0, 0)
                            let start = columns.starts[x], taps = x * columns.taps
                            for k in 0..<columns.counts[x] {
                                let weight = weights[taps + k]
                                let p = sourceRow + (start + k) * channels
                                if premultiplied {
                                    let alpha = Float(source[p + 3]) * (1 / 255)
                                    let w = weight * alpha
                                    sums.0 += w * Float(source[p])
                                    sums.1 += w * Float(source[p + 1])
                                    sums.2 += w * Float(source[p + 2])
                                    sums.3 += weight * Float(source[p + 3])
                                } else {
                                    sums.0 += weight * Float(source[p])
                                    sums.1 += weight * Float(source[p + 1])
                                    sums.2 += weight * Float(source[p + 2])
                                }
                            }
                            let o = outputRow + x * channels
                            output[o] = sums.0
                            output[o + 1] = sums.1
                            output[o + 2] = sums.2
                            if premultiplied { output[o + 3] = sums.3 }
                        }
                    }
                }
            }
        }

        // Pass 2: target rows as weighted sums of pass-1 rows, accumulated a whole row at a time.
        var result = [UInt8](repeating: 0, count: targetWidth * targetHeight * channels)
        var accumulator = [Float](repeating: 0, count: rowFloats)
        horizontal.withUnsafeBufferPointer { input in
            result.withUnsafeMutableBufferPointer { output in
                accumulator.withUnsafeMutableBufferPointer { sums in
                    for y in 0..<targetHeight {
                        sums.update(repeating: 0)
                        let start = rows.starts[y]
                        for k in 0..<rows.counts[y] {
                            let weight = rows.weights[y * rows.taps + k]
                            let row = (start + k) * rowFloats
                            for i in 0..<rowFloats { sums[i] += weight * input[row + i] }
                        }
                        let outputRow = y * rowFloats
                        if premultiplied {
                            for x in 0..<targetWidth {
                                let o = x * 4
                                let alpha = min(max(sums[o + 3], 0), 255)
                                // Back from premultiplied: colour = sum / (alpha / 255).
                                let scale: Float = alpha > 0.5 ? 255 / alpha : 0
                                output[outputRow + o] = byte(sums[o] * scale)
                                output[outputRow + o + 1] = byte(sums[o + 1] * scale)
                                output[outputRow + o + 2] = byte(sums[o + 2] * scale)
                                output[outputRow + o + 3] = byte(alpha)
                            }
                        } else {
                            for i in 0..<rowFloats { output[outputRow + i] = byte(sums[i]) }
                        }
                    }
                }
            }
        }
        return result
    }

    @inline(__always)
    static func byte(_ value: Float) -> UInt8 {
        UInt8(min(max(value.rounded(), 0), 255))
    }
}

extension RGBImage {
    /// This image resampled to `width x height` (area averaging to shrink, Lanczos-3 to
    /// enlarge). Both sizes must be positive, as must this image's.
    public func resampled(width newWidth: Int, height newHeight: Int) -> RGBImage {
        RGBImage(
            width: newWidth, height: newHeight,
            pixels: Resampler.resample(
                pixels, width: width, height: height, channels: 3, targetWidth: newWidth, targetHeight: newHeight))
    }
}

extension DecodedImage {
    /// This image resampled to `width x height`, alpha included (colours weighted by alpha).
    public func resampled(width newWidth: Int, height newHeight: Int) -> DecodedImage {
        DecodedImage(
            width: newWidth, height: newHeight,
            pixels: Resampler.resample(
                pixels, width: width, height: height, channels: 4, targetWidth: newWidth, targetHeight: newHeight),
            hasAlpha: hasAlpha)
    }

    /// The largest centred square: the longer side loses equal margins (one pixel more at the
    /// end when the difference is odd).
    public func centreSquare() -> DecodedImage {
        let side = min(width, height)
        if width == height { return self }
        let left = (width - side) / 2, top = (height - side) / 2
        var square = [UInt8]()
        square.reserveCapacity(side * side * 4)
        for y in top..<top + side {
            let start = (y * width + left) * 4
            square.append(contentsOf: pixels[start..<start + side * 4])
        }
        return DecodedImage(width: side, height: side, pixels: square, hasAlpha: hasAlpha)
    }

    /// An upload brought to the model's square resolution: cropped to its centred square, then
    /// resampled to `side x side`. An image and its mask of the same size get the same crop,
    /// so they stay aligned.
    public func fittedToSquare(side: Int) -> DecodedImage {
        centreSquare().resampled(width: side, height: side)
    }
}
