import Foundation
import Tensors
import XCTest

/// The compute core against plain double-precision loops.
final class KernelTests: XCTestCase {
    func values(_ count: Int, seed: Int) -> [Float] {
        (0..<count).map { Float(sin(Double($0 * 7 + seed) * 0.37)) * 3 }
    }

    func testLinearMatchesNaiveProductWithStrides() {
        let rows = 5, input = 7, output = 3
        let x = values(rows * input, seed: 1), w = values(output * input, seed: 2), b = values(output, seed: 3)
        var y = [Float](repeating: .nan, count: rows * (output + 2))
        let layer = Linear(weight: FloatBuffer(w), bias: FloatBuffer(b), inFeatures: input, outFeatures: output)
        x.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                layer.apply(xp.baseAddress!, rows: rows, into: yp.baseAddress!, outputStride: output + 2)
            }
        }
        for r in 0..<rows {
            for o in 0..<output {
                var expected = Double(b[o])
                for i in 0..<input { expected += Double(x[r * input + i]) * Double(w[o * input + i]) }
                XCTAssertEqual(Double(y[r * (output + 2) + o]), expected, accuracy: 1e-4)
            }
            XCTAssertTrue(y[r * (output + 2) + output].isNaN, "columns beyond the slice are untouched")
        }
    }

    func testLayerNormMatchesDefinition() {
        let dim = 37
        let x = values(2 * dim, seed: 4), weight = values(dim, seed: 5), bias = values(dim, seed: 6)
        var y = [Float](repeating: 0, count: 2 * dim)
        layerNorm(x, rows: 2, dim: dim, eps: 1e-5, weight: weight, bias: bias, into: &y)
        for r in 0..<2 {
            let row = x[(r * dim)..<((r + 1) * dim)].map(Double.init)
            let mean = row.reduce(0, +) / Double(dim)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(dim)
            for i in 0..<dim {
                let expected = (row[i] - mean) / (variance + 1e-5).squareRoot() * Double(weight[i]) + Double(bias[i])
                XCTAssertEqual(Double(y[r * dim + i]), expected, accuracy: 1e-5)
            }
        }
    }

    func testFastExpAndGeluAreAccurate() {
        var worstExp = 0.0
        for i in -8700..<8800 {
            let x = Float(i) / 100
            let relative = abs(Double(FastMath.exp(x)) - Foundation.exp(Double(x))) / Foundation.exp(Double(x))
            worstExp = max(worstExp, relative)
        }
        XCTAssertLessThan(worstExp, 1e-6)
        var x = (0..<1001).map { Float($0 - 500) / 50 }
        let input = x
        Activation.geluTanh(&x, count: x.count)
        for (v, y) in zip(input, x) {
            let d = Double(v)
            let expected = 0.5 * d * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (d + 0.044715 * d * d * d)))
            XCTAssertEqual(Double(y), expected, accuracy: 2e-6)
        }
    }

    func testSoftmaxAndLogSoftmax() {
        var row = values(19, seed: 8)
        let input = row
        softmaxRows(&row, rows: 1, cols: 19)
        let total = input.map { Foundation.exp(Double($0)) }.reduce(0, +)
        for (p, v) in zip(row, input) { XCTAssertEqual(Double(p), Foundation.exp(Double(v)) / total, accuracy: 1e-6) }
        var logs = [Float](repeating: 0, count: 19)
        logSoftmax(input, count: 19, into: &logs)
        for (l, v) in zip(logs, input) { XCTAssertEqual(Double(l), Double(v) - Foundation.log(total), accuracy: 1e-5) }
    }

    func testAttentionWithContextEqualsAttentionOverConcatenatedKeys() {
        let heads = 2, headDim = 3, width = 6, rows = 4, contextRows = 3
        let q = values(rows * width, seed: 9), selfKV = values(rows * 2 * width, seed: 10), context = values(contextRows * 2 * width, seed: 11)
        var scores = [Float](repeating: 0, count: heads * rows * (rows + contextRows))
        var out = [Float](repeating: 0, count: rows * width)
        multiHeadAttention(
            queries: q, rows: rows, queryStride: width, context: context, contextRows: contextRows, contextStride: 2 * width,
            selfKeyValues: selfKV, selfRows: rows, selfStride: 2 * width, heads: heads, headDim: headDim,
            scores: &scores, into: &out, outputStride: width, threads: 2)
        let kv = context + selfKV  // context rows first
        for h in 0..<heads {
            for r in 0..<rows {
                var logits: [Double] = []
                for j in 0..<(rows + contextRows) {
                    var dot = 0.0
                    for c in 0..<headDim { dot += Double(q[r * width + h * headDim + c]) * Double(kv[j * 2 * width + h * headDim + c]) }
                    logits.append(dot / Double(headDim).squareRoot())
                }
                let m = logits.max()!
                let weights = logits.map { Foundation.exp($0 - m) }
                let sum = weights.reduce(0, +)
                for c in 0..<headDim {
                    var expected = 0.0
                    for j in 0..<(rows + contextRows) { expected += weights[j] / sum * Double(kv[j * 2 * width + width + h * headDim + c]) }
                    XCTAssertEqual(Double(out[r * width + h * headDim + c]), expected, accuracy: 1e-5)
                }
            }
        }
    }
}
