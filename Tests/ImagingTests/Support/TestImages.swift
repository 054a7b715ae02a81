import Imaging

/// Deterministic test pictures.
enum TestImages {
    /// Gradients plus pseudo-random noise: varied enough that adaptive filtering picks
    /// several filter types.
    static func varied(width: Int, height: Int, channels: Int = 3, seed: UInt64 = 1) -> [UInt8] {
        var state = seed
        var bytes: [UInt8] = []
        bytes.reserveCapacity(width * height * channels)
        for y in 0..<height {
            for x in 0..<width {
                for channel in 0..<channels {
                    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                    let noise = Int(state >> 61)
                    // Left half smooth, right half noisy, bottom rows flat: each suits a
                    // different filter.
                    let value: Int
                    if y >= height * 3 / 4 {
                        value = 40 * channel
                    } else if x < width / 2 {
                        value = x * 4 + y * 2 + channel * 30
                    } else {
                        value = x * 3 + noise * 20 + channel * 11
                    }
                    bytes.append(UInt8(truncatingIfNeeded: value))
                }
            }
        }
        return bytes
    }

    static func variedRGB(width: Int, height: Int, seed: UInt64 = 1) -> RGBImage {
        RGBImage(width: width, height: height, pixels: varied(width: width, height: height, seed: seed))
    }
}

extension TestImages {
    /// Uniform pseudo-random bytes: incompressible, so the compressed size tracks the input.
    static func noiseRGB(width: Int, height: Int, seed: UInt64 = 1) -> RGBImage {
        var state = seed
        let pixels = (0..<(width * height * 3)).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }
}
