/// Layer normalisation over the last dimension, row by row, optionally affine.
/// `input` and `output` may be the same memory.
public func layerNorm(
    _ input: UnsafePointer<Float>, rows: Int, dim: Int, eps: Float,
    weight: UnsafePointer<Float>? = nil, bias: UnsafePointer<Float>? = nil,
    into output: UnsafeMutablePointer<Float>,
    inputStride: Int? = nil, outputStride: Int? = nil
) {
    let ldi = inputStride ?? dim, ldo = outputStride ?? dim
    for r in 0..<rows {
        let x = input + r * ldi, y = output + r * ldo
        // Two passes: the variance of centred values is accurate where E[x^2]-E[x]^2 is not.
        let mean = vectorSum(x, count: dim) / Float(dim)
        let sq = vectorSquaredDeviation(x, count: dim, mean: mean)
        let inv = 1 / (sq / Float(dim) + eps).squareRoot()
        if let weight, let bias {
            for i in 0..<dim { y[i] = (x[i] - mean) * inv * weight[i] + bias[i] }
        } else {
            for i in 0..<dim { y[i] = (x[i] - mean) * inv }
        }
    }
}

/// Group normalisation of a channels-first image `[channels, pixels]`, affine per channel.
public func groupNorm(
    _ input: UnsafePointer<Float>, channels: Int, pixels: Int, groups: Int, eps: Float,
    weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
    into output: UnsafeMutablePointer<Float>
) {
    precondition(channels % groups == 0, "channels must divide into groups")
    let perGroup = channels / groups
    let count = perGroup * pixels
    for g in 0..<groups {
        let x = input + g * count, y = output + g * count
        // Double accumulators: a group can hold hundreds of thousands of values.
        var sum = 0.0
        for i in 0..<count { sum += Double(x[i]) }
        let mean = sum / Double(count)
        var sq = 0.0
        for i in 0..<count { let d = Double(x[i]) - mean; sq += d * d }
        let inv = Float(1 / (sq / Double(count) + Double(eps)).squareRoot())
        let m = Float(mean)
        for c in 0..<perGroup {
            let channel = g * perGroup + c
            let scale = inv * weight[channel], shift = bias[channel] - m * scale
            let xc = x + c * pixels, yc = y + c * pixels
            for p in 0..<pixels { yc[p] = xc[p] * scale + shift }
        }
    }
}
