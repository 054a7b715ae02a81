import Foundation
import Tensors
import XCTest

/// The bfloat16 kernels against a double-precision product of the bf16-rounded operands: what
/// bf16 GEMMs with float32 accumulation compute, whatever the summation order.
final class BF16GEMMTests: XCTestCase {
    /// Every kernel this CPU runs, the AVX-512 one's emulated build included (it runs anywhere
    /// and checks the AVX-512 kernel's tiling).
    var kernels: [BF16Kernel] { [.avx2FMA, .avx512BF16, .avx512BF16Emulated].filter(\.isAvailable) }

    func values(_ count: Int, seed: Int) -> [Float] {
        (0..<count).map { Float(sin(Double($0 * 13 + seed) * 0.61)) * 2 }
    }

    /// `rows x out` of `x W^T + b` in double, from the rounded operands.
    func reference(x: [Float], w: [Float], bias: [Float]?, rows: Int, input: Int, output: Int) -> [Double] {
        var y = [Double](repeating: 0, count: rows * output)
        for r in 0..<rows {
            for o in 0..<output {
                var sum = Double(bias?[o] ?? 0)
                for i in 0..<input { sum += Double(BFloat16.round(x[r * input + i])) * Double(BFloat16.round(w[o * input + i])) }
                y[r * output + o] = sum
            }
        }
        return y
    }

    func testPackingKeepsEveryWeightRoundedToBF16() {
        for (rows, columns) in [(1, 1), (17, 3), (32, 64), (33, 31)] {
            let w = values(rows * columns, seed: rows)
            let matrix = w.withUnsafeBufferPointer {
                PackedBF16Matrix(weight: $0.baseAddress!, rows: rows, columns: columns, kernel: .avx512BF16Emulated)
            }
            XCTAssertEqual(matrix.unpacked(), w.map(BFloat16.round), "\(rows)x\(columns)")
            XCTAssertEqual(matrix.byteCount, (rows + 15) / 16 * 16 * ((columns + 1) / 2 * 2) * 2)
        }
    }

    func testRoundingIsNearestEvenAndKeepsSpecialValues() {
        // bfloat16 keeps 7 fraction bits: neighbours of 1 are 2^-7 apart.
        XCTAssertEqual(BFloat16.round(1 + 1.0 / 256), 1, "halfway between 1 and 1 + 2^-7 rounds to the even one")
        XCTAssertEqual(BFloat16.round(1 + 3.0 / 256), 1 + 1.0 / 64, "halfway above an odd neighbour rounds up")
        XCTAssertEqual(BFloat16.round(1 + 1.5 / 256), 1 + 1.0 / 128)
        XCTAssertEqual(BFloat16.round(.infinity), .infinity)
        XCTAssertTrue(BFloat16.round(.nan).isNaN)
        XCTAssertEqual(BFloat16.round(-0.0).sign, .minus)
    }

    func testKernelsMatchTheRoundedProductOnEveryTileShape() {
        // Rows and columns around the tiles (6 rows, 16- and 64-column panels), odd inputs.
        let shapes = [(1, 1, 1), (5, 16, 2), (6, 64, 8), (7, 65, 9), (13, 100, 33), (20, 200, 64), (3, 1000, 130)]
        XCTAssertFalse(kernels.isEmpty)
        for kernel in kernels {
            for threads in [1, 2, 3] {
                for (rows, output, input) in shapes {
                    let x = values(rows * input, seed: 1), w = values(output * input, seed: 2), b = values(output, seed: 3)
                    let layer = Linear(
                        weight: FloatBuffer(w), bias: FloatBuffer(b), inFeatures: input, outFeatures: output, precision: .bf16, kernel: kernel)
                    // Through a column slice of a wider output: the columns around it stay untouched.
                    let stride = output + 3
                    var y = [Float](repeating: .nan, count: rows * stride)
                    x.withUnsafeBufferPointer { xp in
                        y.withUnsafeMutableBufferPointer { yp in
                            layer.apply(
                                xp.baseAddress!, rows: rows, into: yp.baseAddress! + 1, outputStride: stride,
                                workspace: GEMMWorkspace(threads: threads))
                        }
                    }
                    let expected = reference(x: x, w: w, bias: b, rows: rows, input: input, output: output)
                    for r in 0..<rows {
                        XCTAssertTrue(y[r * stride].isNaN && y[r * stride + output + 1].isNaN, "\(kernel): outside the slice untouched")
                        for o in 0..<output {
                            let e = expected[r * output + o]
                            XCTAssertEqual(
                                Double(y[r * stride + 1 + o]), e, accuracy: 1e-5 * Double(input) + 1e-5 * abs(e),
                                "\(kernel) \(threads) threads \(rows)x\(output)x\(input) at \(r),\(o)")
                        }
                    }
                }
            }
        }
    }

    func testKernelsAccumulateAndReadStridedInputs() {
        let rows = 9, input = 40, output = 48, inputStride = 45
        var x = values(rows * inputStride, seed: 7)
        for r in 0..<rows { for i in input..<inputStride { x[r * inputStride + i] = .nan } }  // never read
        let w = values(output * input, seed: 8)
        for kernel in kernels {
            let matrix = w.withUnsafeBufferPointer { PackedBF16Matrix(weight: $0.baseAddress!, rows: output, columns: input, kernel: kernel) }
            var y = [Float](repeating: 1, count: rows * output)
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    matrix.multiply(
                        xp.baseAddress!, rows: rows, inputStride: inputStride, bias: nil, accumulate: true, into: yp.baseAddress!,
                        workspace: GEMMWorkspace(threads: 2))
                }
            }
            let dense = (0..<rows).flatMap { r in x[(r * inputStride)..<(r * inputStride + input)] }
            let expected = reference(x: Array(dense), w: w, bias: nil, rows: rows, input: input, output: output)
            for (got, want) in zip(y, expected) { XCTAssertEqual(Double(got), 1 + want, accuracy: 1e-4, "\(kernel)") }
        }
    }

    /// A silent fall back to float32 fails here: 1 + 2^-9 is 1 in bfloat16, so a bf16 layer
    /// computes exactly `sum(w)` while float32 computes `(1 + 2^-9) sum(w)`.
    func testBF16LayersReallyRoundTheirOperands() throws {
        let kernel = try XCTUnwrap(BF16Kernel.best, "this CPU has no bf16 kernel (needs AVX2 + FMA)")
        let input = 64, output = 32
        let x = [Float](repeating: 1 + 1.0 / 512, count: input)
        let w = (0..<(output * input)).map { Float(($0 % 7) + 1) / 8 }  // exact in bfloat16
        let bf16 = Linear(weight: FloatBuffer(w), bias: nil, inFeatures: input, outFeatures: output, precision: .bf16, kernel: kernel)
        let fp32 = Linear(weight: FloatBuffer(w), bias: nil, inFeatures: input, outFeatures: output, precision: .fp32)
        XCTAssertEqual(bf16.precision, .bf16)
        XCTAssertNil(bf16.float32Weight, "no float32 copy of the weight is kept in bf16")
        XCTAssertEqual(bf16.weightBytes, output * input * 2)
        var a = [Float](repeating: 0, count: output), b = a
        x.withUnsafeBufferPointer { xp in
            a.withUnsafeMutableBufferPointer { bf16.apply(xp.baseAddress!, rows: 1, into: $0.baseAddress!) }
            b.withUnsafeMutableBufferPointer { fp32.apply(xp.baseAddress!, rows: 1, into: $0.baseAddress!) }
        }
        for o in 0..<output {
            let sum = (0..<input).reduce(Float(0)) { $0 + w[o * input + $1] }
            XCTAssertEqual(a[o], sum, "bf16 rounded the input to 1")
            XCTAssertEqual(b[o], sum * (1 + 1.0 / 512), accuracy: 1e-4)
            XCTAssertNotEqual(a[o], b[o])
        }
    }

    /// The kernel this CPU is given matches what /proc/cpuinfo says it has.
    func testBestKernelMatchesTheCPUFlags() throws {
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let flagsLine = try XCTUnwrap(cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") })
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        let expected: BF16Kernel?
        if ["avx512f", "avx512bw", "avx512vl", "avx512_bf16"].allSatisfy(flags.contains) {
            expected = .avx512BF16
        } else if ["avx2", "fma", "f16c"].allSatisfy(flags.contains) {
            expected = .avx2FMA
        } else {
            expected = nil
        }
        XCTAssertEqual(BF16Kernel.best, expected)
    }

    func testPrecisionSettingsResolvePerCPU() throws {
        XCTAssertEqual(try PrecisionSetting.auto.resolve(kernel: .avx512BF16), .bf16)
        XCTAssertEqual(try PrecisionSetting.auto.resolve(kernel: .avx2FMA), .fp32, "auto keeps fp32 without native bf16 dot products")
        XCTAssertEqual(try PrecisionSetting.auto.resolve(kernel: nil), .fp32)
        XCTAssertEqual(try PrecisionSetting.bf16.resolve(kernel: .avx2FMA), .bf16)
        XCTAssertEqual(try PrecisionSetting.fp32.resolve(kernel: .avx512BF16), .fp32)
        XCTAssertThrowsError(try PrecisionSetting.bf16.resolve(kernel: nil)) { error in
            XCTAssertEqual(error as? PrecisionError, .bf16Unsupported)
            XCTAssertTrue("\(error)".contains("AVX2"))
        }
    }

    /// Attention with its heads split over workers (bf16 mode, OpenBLAS single-threaded)
    /// computes what the one-worker path computes.
    func testAttentionWithHeadWorkersMatchesOneWorker() {
        let heads = 4, headDim = 16, rows = 24, contextRows = 40, width = heads * headDim
        let q = values(rows * 3 * width, seed: 11), c = values(contextRows * 2 * width, seed: 12)
        var one = [Float](repeating: 0, count: rows * width), split = one
        var scores = [Float](repeating: 0, count: heads * rows * (rows + contextRows))
        let previous = BLAS.threads
        BLAS.setThreads(1)
        defer { BLAS.setThreads(previous) }
        for (headThreads, output) in [(1, 0), (2, 1)] {
            q.withUnsafeBufferPointer { qp in
                c.withUnsafeBufferPointer { cp in
                    scores.withUnsafeMutableBufferPointer { sp in
                        func run(_ out: UnsafeMutablePointer<Float>) {
                            multiHeadAttention(
                                queries: qp.baseAddress!, rows: rows, queryStride: 3 * width,
                                context: cp.baseAddress!, contextRows: contextRows, contextStride: 2 * width,
                                selfKeyValues: qp.baseAddress! + width, selfRows: rows, selfStride: 3 * width,
                                heads: heads, headDim: headDim, scores: sp.baseAddress!, into: out, outputStride: width,
                                threads: 1, headThreads: headThreads)
                        }
                        if output == 0 {
                            one.withUnsafeMutableBufferPointer { run($0.baseAddress!) }
                        } else {
                            split.withUnsafeMutableBufferPointer { run($0.baseAddress!) }
                        }
                    }
                }
            }
        }
        XCTAssertEqual(one, split)
        XCTAssertFalse(one.allSatisfy { $0 == 0 })
    }
}
