import Foundation

/// Element-wise activations, in place, sixteen lanes at a time: the MLPs evaluate tens of
/// millions of them per image, and a scalar libm call per element would cost more than the
/// GEMMs around them.
public enum Activation {
    /// GELU with the tanh approximation (PyTorch `approximate="tanh"`).
    public static func geluTanh(_ x: UnsafeMutablePointer<Float>, count: Int, threads: Int = 1) {
        let blocks = (count + 1023) / 1024
        Parallel.ranges(blocks, threads: threads, elementsPerItem: 1024) { range in
            let start = range.lowerBound * 1024, end = min(count, range.upperBound * 1024)
            FastMath.map(x + start, count: end - start) { v in
                let z = 0.7978845608028654 * (v + 0.044715 * v * v * v)
                return 0.5 * v * (1 + FastMath.tanh(z))
            }
        }
    }

    /// Exact GELU, `x * Phi(x)` through erf (only the small MLM head uses it).
    public static func geluErf(_ x: UnsafeMutablePointer<Float>, count: Int) {
        let r = Float(1 / 2.0.squareRoot())
        for i in 0..<count { let v = x[i]; x[i] = 0.5 * v * (1 + erff(v * r)) }
    }

    /// SiLU / swish, `x * sigmoid(x)`.
    public static func silu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        FastMath.map(x, count: count) { v in v / (1 + FastMath.exp(-v)) }
    }

    /// CLIP's quick GELU, `x * sigmoid(1.702 x)`.
    public static func quickGelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        FastMath.map(x, count: count) { v in v / (1 + FastMath.exp(-1.702 * v)) }
    }
}

/// Vector kernels on sixteen lanes (one AVX-512 register, two AVX2 ones), written with integer
/// bit tricks instead of conversions that trap, so they compile to straight-line SIMD code.
/// `@inlinable`: the VQGAN's swish and the softmax inline them into their own loops.
public enum FastMath {
    public typealias Vector = SIMD16<Float>

    /// exp(x) within a few ulp for |x| < 88: 2^n * exp(r) with n = round(x / ln 2) and a
    /// degree-6 polynomial for exp(r) (Cephes' coefficients); out-of-range inputs are clamped.
    @inlinable @inline(__always)
    public static func exp(_ x: Vector) -> Vector {
        // `replacing(where:)` compiles to compares and blends; the generic `pointwiseMin/Max`
        // stayed out-of-line calls in profiles.
        var c = x
        c.replace(with: Vector(repeating: 88.3), where: c .> 88.3)
        c.replace(with: Vector(repeating: -87.3), where: c .< -87.3)
        // Adding 1.5 * 2^23 rounds to the nearest integer, which then sits in the low mantissa bits.
        let k = c * 1.442695041 + 12_582_912
        let n = k - 12_582_912
        // ln 2 in two parts keeps the reduced argument exact.
        let r = c - n * 0.693359375 + n * 2.12194440e-4
        var p = Vector(repeating: 1.9875691500e-4)
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        let expR = p * r * r + r + 1
        // k's bits are 0x4B400000 + n for |n| < 2^22: n moved into the exponent field is 2^n.
        let scale = (unsafeBitCast(k, to: SIMD16<UInt32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        return expR * unsafeBitCast(scale, to: Vector.self)
    }

    /// tanh(x) = 1 - 2 / (exp(2x) + 1): absolute error at float rounding (about 1e-7), which
    /// is what GELU's `x * (1 + tanh)` needs.
    @inlinable @inline(__always)
    public static func tanh(_ x: Vector) -> Vector { 1 - 2 / (exp(2 * x) + 1) }

    @inlinable @inline(__always)
    public static func exp(_ x: Float) -> Float { exp(Vector(repeating: x))[0] }

    @inlinable @inline(__always)
    public static func tanh(_ x: Float) -> Float { tanh(Vector(repeating: x))[0] }

    /// Applies `f` in place, sixteen lanes at a time; the tail goes through a padded vector.
    @inlinable @inline(__always)
    public static func map(_ x: UnsafeMutablePointer<Float>, count: Int, _ f: (Vector) -> Vector) {
        let raw = UnsafeMutableRawPointer(x)
        var i = 0
        while i + 16 <= count {
            raw.storeBytes(of: f(raw.loadUnaligned(fromByteOffset: i * 4, as: Vector.self)), toByteOffset: i * 4, as: Vector.self)
            i += 16
        }
        if i < count {
            var tail = Vector()
            for lane in 0..<(count - i) { tail[lane] = x[i + lane] }
            let result = f(tail)
            for lane in 0..<(count - i) { x[i + lane] = result[lane] }
        }
    }
}
