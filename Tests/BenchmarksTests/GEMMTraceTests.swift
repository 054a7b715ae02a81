import Benchmarks
import Tensors
import XCTest

final class GEMMTraceTests: XCTestCase {
    func testRecordsShapesAndWeightOperandsAndReplaysOnScratchBuffers() {
        let rows = 6, input = 5, output = 4
        let x = (0..<(rows * input)).map { Float($0) / 10 }
        let w = (0..<(output * input)).map { Float($0) / 7 }
        var y = [Float](repeating: 0, count: rows * output)
        var scores = [Float](repeating: 0, count: rows * rows)
        let layer = Linear(weight: FloatBuffer(w), bias: nil, inFeatures: input, outFeatures: output)
        x.withUnsafeBufferPointer { xp in
            do {
                let wp = layer.float32Weight!
                let (_, trace) = GEMMTrace.record {
                    y.withUnsafeMutableBufferPointer { yp in
                        layer.apply(xp.baseAddress!, rows: rows, into: yp.baseAddress!)
                    }
                    // An activation product (as attention's scores): x x^T.
                    scores.withUnsafeMutableBufferPointer { sp in
                        BLAS.gemm(
                            transposeB: true, m: rows, n: rows, k: input, a: xp.baseAddress!, lda: input,
                            b: xp.baseAddress!, ldb: input, c: sp.baseAddress!, ldc: rows)
                    }
                }
                XCTAssertEqual(trace.calls.count, 2)
                let linear = trace.calls[0], product = trace.calls[1]
                XCTAssertEqual([linear.m, linear.n, linear.k, linear.ldb], [rows, output, input, input])
                XCTAssertTrue(linear.weightB && linear.transposeB && !linear.transposeA)
                XCTAssertEqual(linear.b, UInt(bitPattern: wp))
                XCTAssertFalse(product.weightB)
                XCTAssertEqual(trace.linearLayerCalls.count, 1)

                // The replay writes to scratch buffers, never to the traced outputs.
                let (yBefore, scoresBefore) = (y, scores)
                let seconds = GEMMTrace.replaySeconds(trace.calls, repetitions: 2)
                XCTAssertTrue(seconds.isFinite && seconds >= 0)
                XCTAssertEqual(y, yBefore)
                XCTAssertEqual(scores, scoresBefore)
            }
        }
    }

    func testCallsAfterRecordEndsAreNotNoted() {
        let x: [Float] = [1, 2, 3, 4]
        var y = [Float](repeating: 0, count: 4)
        func product() {
            y.withUnsafeMutableBufferPointer { yp in
                BLAS.gemm(m: 2, n: 2, k: 2, a: x, lda: 2, b: x, ldb: 2, c: yp.baseAddress!, ldc: 2)
            }
        }
        let (_, trace) = GEMMTrace.record { product() }
        product()
        XCTAssertEqual(trace.calls.count, 1)
        XCTAssertEqual(y, [7, 10, 15, 22], "the traced GEMM computed as usual")
    }
}
