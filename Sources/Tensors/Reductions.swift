/// Sums and maxima with sixteen-wide accumulators: Swift keeps float addition in source
/// order, so a plain loop never vectorises.
@inline(__always)
public func vectorSum(_ x: UnsafePointer<Float>, count: Int) -> Float {
    var accumulator = SIMD16<Float>()
    var i = 0
    let raw = UnsafeRawPointer(x)
    while i + 16 <= count {
        accumulator += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
        i += 16
    }
    var total = accumulator.sum()
    while i < count { total += x[i]; i += 1 }
    return total
}

/// `sum((x - mean)^2)`.
@inline(__always)
public func vectorSquaredDeviation(_ x: UnsafePointer<Float>, count: Int, mean: Float) -> Float {
    var accumulator = SIMD16<Float>()
    let m = SIMD16<Float>(repeating: mean)
    var i = 0
    let raw = UnsafeRawPointer(x)
    while i + 16 <= count {
        let d = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self) - m
        accumulator += d * d
        i += 16
    }
    var total = accumulator.sum()
    while i < count { let d = x[i] - mean; total += d * d; i += 1 }
    return total
}

@inline(__always)
public func vectorMax(_ x: UnsafePointer<Float>, count: Int) -> Float {
    var accumulator = SIMD16<Float>(repeating: -.infinity)
    var i = 0
    let raw = UnsafeRawPointer(x)
    while i + 16 <= count {
        let v = raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
        accumulator.replace(with: v, where: v .> accumulator)
        i += 16
    }
    var result = accumulator.max()
    while i < count { result = Swift.max(result, x[i]); i += 1 }
    return result
}
