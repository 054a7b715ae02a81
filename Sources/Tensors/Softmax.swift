import Foundation

/// Softmax of each row, in place.
/// Rows are split over `threads` Dispatch workers when there is enough work.
public func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int, stride: Int? = nil, threads: Int = 1) {
    let ld = stride ?? cols
    Parallel.ranges(rows, threads: threads, elementsPerItem: cols) { range in
        for r in range { softmaxRow(x + r * ld, count: cols) }
    }
}

/// One row in three sixteen-lane passes: maximum, exponentials with their sum, scaling.
@inline(__always)
func softmaxRow(_ row: UnsafeMutablePointer<Float>, count: Int) {
    typealias V = FastMath.Vector
    let maxValue = vectorMax(row, count: count)
    let shift = V(repeating: maxValue)
    let raw = UnsafeMutableRawPointer(row)
    var sum = V()
    var i = 0
    while i + 16 <= count {
        let e = FastMath.exp(raw.loadUnaligned(fromByteOffset: i * 4, as: V.self) - shift)
        raw.storeBytes(of: e, toByteOffset: i * 4, as: V.self)
        sum += e
        i += 16
    }
    var total = sum.sum()
    if i < count {
        var tail = V(repeating: -.infinity)
        for lane in 0..<(count - i) { tail[lane] = row[i + lane] }
        let e = FastMath.exp(tail - shift)
        for lane in 0..<(count - i) { row[i + lane] = e[lane]; total += e[lane] }
    }
    let inv = V(repeating: 1 / total)
    i = 0
    while i + 16 <= count {
        raw.storeBytes(of: raw.loadUnaligned(fromByteOffset: i * 4, as: V.self) * inv, toByteOffset: i * 4, as: V.self)
        i += 16
    }
    while i < count { row[i] *= inv[0]; i += 1 }
}

/// Log-softmax of one row, from `input` into `output` (may alias).
public func logSoftmax(_ input: UnsafePointer<Float>, count: Int, into output: UnsafeMutablePointer<Float>) {
    var maxValue = -Float.infinity
    for i in 0..<count { maxValue = max(maxValue, input[i]) }
    var sum: Double = 0
    for i in 0..<count { sum += Double(expf(input[i] - maxValue)) }
    let logSum = maxValue + Float(Foundation.log(sum))
    for i in 0..<count { output[i] = input[i] - logSum }
}
