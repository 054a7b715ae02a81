/// Colour tables that need no decoder run.
extension CodeColorTable {
    /// A fixed pseudo-random colour per code: stable across runs and machines (integer
    /// hashing plus basic float arithmetic only), saturated enough never to be confused with
    /// the grey of unrevealed cells.
    public static func hashed(codebookSize: Int) -> CodeColorTable {
        precondition(codebookSize >= 0, "negative codebook size")
        return CodeColorTable(colors: (0..<codebookSize).map(hashedColor(code:)))
    }

    /// The colour `hashed(codebookSize:)` gives `code`.
    public static func hashedColor(code: Int) -> RGBColor {
        let bits = splitMix64(UInt64(truncatingIfNeeded: code))
        // Golden-ratio hue steps spread neighbouring codes around the colour wheel; the hash
        // varies saturation and brightness so codes sharing a hue still differ. The step is
        // done in 64-bit fixed point (2^64 / φ), which wraps for free and needs no libm.
        let turn = UInt64(truncatingIfNeeded: code) &* 0x9E37_79B9_7F4A_7C15
        let hue = Double(turn >> 11) / Double(1 << 53)
        let saturation = 0.5 + 0.4 * Double(bits & 0xFF) / 255
        let value = 0.6 + 0.35 * Double((bits >> 8) & 0xFF) / 255
        return hsvToRGB(hue: hue, saturation: saturation, value: value)
    }

    /// Colours from arbitrary per-code feature vectors (e.g. codebook embeddings),
    /// `[codebookSize][dimension]`: a fixed random projection to three axes, each rescaled
    /// over the codebook into [0.1, 0.9]. Similar codes get similar colours, which makes
    /// previews read as structure rather than noise, at no decoder cost.
    public static func projecting(features: [Float], dimension: Int) -> CodeColorTable {
        precondition(
            dimension > 0 && features.count % dimension == 0,
            "features must be whole vectors of the given dimension")
        let codes = features.count / dimension
        // A fixed seed keeps the table identical from run to run.
        var state: UInt64 = 0x454E_4154_5072_6576
        let weights: [Float] = (0..<(3 * dimension)).map { _ in
            state &+= 0x9E37_79B9_7F4A_7C15
            return Float(Double(splitMix64(state) >> 11) / Double(1 << 53) * 2 - 1)
        }
        var projected = [Float](repeating: 0, count: 3 * codes)
        for code in 0..<codes {
            for axis in 0..<3 {
                var sum: Float = 0
                for index in 0..<dimension {
                    let value = features[code * dimension + index]
                    sum += (value.isFinite ? value : 0) * weights[axis * dimension + index]
                }
                projected[3 * code + axis] = sum
            }
        }
        for axis in 0..<3 {
            var low = Float.infinity, high = -Float.infinity
            for code in 0..<codes {
                low = min(low, projected[3 * code + axis])
                high = max(high, projected[3 * code + axis])
            }
            let span = high - low
            for code in 0..<codes {
                let unit = span > 0 && span.isFinite ? (projected[3 * code + axis] - low) / span : 0.5
                projected[3 * code + axis] = 0.1 + 0.8 * unit
            }
        }
        return CodeColorTable(rgb: projected)
    }

    private static func splitMix64(_ seed: UInt64) -> UInt64 {
        var z = seed &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    private static func hsvToRGB(hue: Double, saturation: Double, value: Double) -> RGBColor {
        let sector = hue * 6
        let index = Int(sector) % 6
        let fraction = sector - Double(Int(sector))
        let p = value * (1 - saturation)
        let q = value * (1 - saturation * fraction)
        let t = value * (1 - saturation * (1 - fraction))
        let (r, g, b): (Double, Double, Double)
        switch index {
        case 0: (r, g, b) = (value, t, p)
        case 1: (r, g, b) = (q, value, p)
        case 2: (r, g, b) = (p, value, t)
        case 3: (r, g, b) = (p, q, value)
        case 4: (r, g, b) = (t, p, value)
        default: (r, g, b) = (value, p, q)
        }
        return RGBColor(
            red: PixelQuantizer.quantize(Float(r)), green: PixelQuantizer.quantize(Float(g)),
            blue: PixelQuantizer.quantize(Float(b)))
    }
}
