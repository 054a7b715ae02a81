import Foundation

/// Element-wise activations, in place. The transcendental parts go through `FastMath`'s
/// vectorised kernels: the MLPs evaluate tens of millions of them per image.
public enum Activation {
    /// GELU with the tanh approximation (PyTorch `approximate="tanh"`).
    public static func geluTanh(_ x: UnsafeMutablePointer<Float>, count: Int) {
        let c = Float((2.0 / Double.pi).squareRoot())
        for i in 0..<count {
            let v = x[i]
            x[i] = 0.5 * v * (1 + FastMath.tanh(c * (v + 0.044715 * v * v * v)))
        }
    }

    /// Exact GELU, `x * Phi(x)` through erf.
    public static func geluErf(_ x: UnsafeMutablePointer<Float>, count: Int) {
        let r = Float(1 / 2.0.squareRoot())
        for i in 0..<count { let v = x[i]; x[i] = 0.5 * v * (1 + erff(v * r)) }
    }

    /// SiLU / swish, `x * sigmoid(x)`.
    public static func silu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { let v = x[i]; x[i] = v / (1 + FastMath.exp(-v)) }
    }

    /// Quick GELU of CLIP, `x * sigmoid(1.702 x)`.
    public static func quickGelu(_ x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count { let v = x[i]; x[i] = v / (1 + FastMath.exp(-1.702 * v)) }
    }
}

/// Scalar kernels written so that the compiler vectorises the loops that call them:
/// no libm calls, no branches that depend on the data beyond clamps.
public enum FastMath {
    /// exp(x) to within a few ulp for |x| < 88, by range reduction to 2^n * exp(r) with a
    /// degree-6 polynomial (Cephes' coefficients).
    @inline(__always)
    public static func exp(_ x: Float) -> Float {
        let clamped = Swift.min(Swift.max(x, -87.3), 88.3)
        let n = (clamped * 1.442695041).rounded(.toNearestOrEven)
        // Two-part ln 2 keeps the reduced argument exact.
        let r = clamped - n * 0.693359375 + n * 2.12194440e-4
        var p: Float = 1.9875691500e-4
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        let er = p * r * r + r + 1
        let bits = UInt32(bitPattern: Int32(n) + 127) << 23
        return er * Float(bitPattern: bits)
    }

    /// tanh(x) = 1 - 2 / (exp(2x) + 1), exact to float rounding away from 0; near 0 the
    /// odd series avoids cancellation.
    @inline(__always)
    public static func tanh(_ x: Float) -> Float {
        if Swift.abs(x) < 0.0625 {
            let x2 = x * x
            return x * (1 + x2 * (-0.333333333 + x2 * (0.133333333 + x2 * -0.053968254)))
        }
        return 1 - 2 / (exp(2 * x) + 1)
    }
}
