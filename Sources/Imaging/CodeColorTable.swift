/// One display colour per VQ code, used to paint mosaic previews.
///
/// Compute it once per model and keep it: the constructors that look at model data cost far
/// more than rendering does.
public struct CodeColorTable: Sendable, Equatable {
    /// `count * 3` bytes: code `c`'s colour is at `3c ..< 3c + 3`, RGB.
    public let bytes: [UInt8]

    /// Number of codes (the codebook size).
    public var count: Int { bytes.count / 3 }

    /// Wraps a flat `[codebookSize][3]` RGB table.
    public init(bytes: [UInt8]) {
        precondition(bytes.count % 3 == 0, "colour table must hold whole RGB triples")
        self.bytes = bytes
    }

    /// One colour per code, in code order.
    public init(colors: [RGBColor]) {
        self.init(bytes: colors.flatMap { [$0.red, $0.green, $0.blue] })
    }

    /// Code `code`'s colour.
    public subscript(code: Int) -> RGBColor {
        RGBColor(red: bytes[3 * code], green: bytes[3 * code + 1], blue: bytes[3 * code + 2])
    }
}

extension CodeColorTable {
    /// Colours from float RGB values in [0, 1], `[codebookSize][3]`, e.g. each code's mean
    /// decoded colour. Quantised like decoder output (`PixelQuantizer`).
    public init(rgb: [Float]) {
        precondition(rgb.count % 3 == 0, "colour values must come in RGB triples")
        self.init(bytes: rgb.map(PixelQuantizer.quantize))
    }

    /// Asks `colorOfCode` for each code's float RGB colour in [0, 1]. Typically the closure
    /// decodes a latent grid filled with that one code and returns
    /// `CodeColorTable.meanColor(chw:width:height:)` of the result, so previews show roughly
    /// the colours the final image will have.
    public init(
        codebookSize: Int, colorOfCode: (Int) throws -> SIMD3<Float>
    ) rethrows {
        precondition(codebookSize >= 0, "negative codebook size")
        var rgb: [Float] = []
        rgb.reserveCapacity(codebookSize * 3)
        for code in 0..<codebookSize {
            let color = try colorOfCode(code)
            rgb.append(contentsOf: [color.x, color.y, color.z])
        }
        self.init(rgb: rgb)
    }

    /// The mean of each channel of a planar `[3, height, width]` image (as the VQGAN decoder
    /// produces). Non-finite values count as 0 so one bad pixel cannot poison a code's colour.
    public static func meanColor(chw: [Float], width: Int, height: Int) -> SIMD3<Float> {
        let plane = width * height
        precondition(chw.count == 3 * plane, "expected 3 * width * height floats")
        guard plane > 0 else { return SIMD3(0, 0, 0) }
        var sums = SIMD3<Double>(0, 0, 0)
        for index in 0..<plane {
            // Double accumulation: float sums drift over 65k-pixel planes.
            sums += SIMD3(
                finiteOrZero(chw[index]), finiteOrZero(chw[plane + index]),
                finiteOrZero(chw[2 * plane + index]))
        }
        let mean = sums / Double(plane)
        return SIMD3(Float(mean.x), Float(mean.y), Float(mean.z))
    }

    private static func finiteOrZero(_ value: Float) -> Double {
        value.isFinite ? Double(value) : 0
    }
}
