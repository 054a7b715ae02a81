import Foundation

/// Softmax of each row, in place.
public func softmaxRows(_ x: UnsafeMutablePointer<Float>, rows: Int, cols: Int, stride: Int? = nil) {
    let ld = stride ?? cols
    for r in 0..<rows {
        let row = x + r * ld
        let maxValue = vectorMax(row, count: cols)
        let shift = FastMath.Vector(repeating: maxValue)
        FastMath.map(row, count: cols) { FastMath.exp($0 - shift) }
        let inv = 1 / vectorSum(row, count: cols)
        for i in 0..<cols { row[i] *= inv }
    }
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
