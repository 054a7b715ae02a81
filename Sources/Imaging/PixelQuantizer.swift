/// Float pixel values to 8-bit samples, the way the reference PyTorch code does it.
public enum PixelQuantizer {
    /// `round(clamp(value, 0, 1) * 255)` in Float32 with ties to even, which is what
    /// `torch.round` does, so our bytes match the reference pipeline's. NaN maps to 0
    /// (the reference's uint8 cast of NaN is undefined; 0 is at least stable).
    @inlinable
    public static func quantize(_ value: Float) -> UInt8 {
        // Written with `>` rather than min/max: NaN fails every comparison and so lands on 0,
        // where min/max would propagate it into an undefined integer conversion.
        let clamped: Float = value > 1 ? 1 : (value > 0 ? value : 0)
        let scaled = clamped * 255
        // Round half to even by hand: `rounded(.toNearestOrEven)` becomes a call to libm's
        // rintf on baseline x86-64, and this module should link without libm. For 0...255
        // the truncation and the fraction below are exact.
        let whole = UInt8(scaled)
        let fraction = scaled - Float(whole)
        let roundUp = fraction > 0.5 || (fraction == 0.5 && whole & 1 == 1)
        return roundUp ? whole + 1 : whole
    }
}

extension RGBImage {
    /// Converts the VQGAN decoder's output for one image: planar floats `[3, height, width]`
    /// (CHW), nominally in [0, 1], quantised with `PixelQuantizer.quantize`.
    public init(chw: UnsafeBufferPointer<Float>, width: Int, height: Int) {
        precondition(width >= 0 && height >= 0, "negative image size")
        let plane = width * height
        precondition(chw.count == 3 * plane, "expected 3 * width * height floats")
        let pixels = [UInt8](unsafeUninitializedCapacity: 3 * plane) { output, initialized in
            // Planes are read in lockstep so each output byte is written exactly once.
            guard let source = chw.baseAddress, let destination = output.baseAddress else {
                initialized = 0
                return
            }
            let red = source, green = source + plane, blue = source + 2 * plane
            for index in 0..<plane {
                destination[3 * index] = PixelQuantizer.quantize(red[index])
                destination[3 * index + 1] = PixelQuantizer.quantize(green[index])
                destination[3 * index + 2] = PixelQuantizer.quantize(blue[index])
            }
            initialized = 3 * plane
        }
        self.init(width: width, height: height, pixels: pixels)
    }

    /// Array convenience for `init(chw:width:height:)`.
    public init(chw: [Float], width: Int, height: Int) {
        self = chw.withUnsafeBufferPointer { RGBImage(chw: $0, width: width, height: height) }
    }

    /// Splits a batch `[batch, 3, height, width]` into images, in batch order.
    public static func batch(
        bchw: UnsafeBufferPointer<Float>, batch: Int, width: Int, height: Int
    ) -> [RGBImage] {
        precondition(batch >= 0, "negative batch size")
        let imageFloats = 3 * width * height
        precondition(bchw.count == batch * imageFloats, "expected batch * 3 * width * height floats")
        return (0..<batch).map { item in
            let slice = UnsafeBufferPointer(rebasing: bchw[(item * imageFloats)..<((item + 1) * imageFloats)])
            return RGBImage(chw: slice, width: width, height: height)
        }
    }

    /// Array convenience for `batch(bchw:batch:width:height:)`.
    public static func batch(bchw: [Float], batch: Int, width: Int, height: Int) -> [RGBImage] {
        bchw.withUnsafeBufferPointer { RGBImage.batch(bchw: $0, batch: batch, width: width, height: height) }
    }
}
