import Foundation
import Tensors
import XCTest

/// The bf16 3x3 convolution kernels against a double-precision convolution of the rounded
/// operands, on the decoder's padded layout (columns = padded pixels of the images side by side).
final class PackedConvolutionTests: XCTestCase {
    func values(_ count: Int, seed: Int) -> [Float] {
        (0..<count).map { Float(sin(Double($0 * 17 + seed) * 0.43)) * 2 }
    }

    func testKernelsMatchTheRoundedConvolution() {
        let kernels = [BF16Kernel.avx2FMA, .avx512BF16, .avx512BF16Emulated].filter(\.isAvailable)
        // Odd and even input channels, out channels around the 6-row tile, several images.
        for (inChannels, outChannels, side, images) in [(2, 1, 4, 1), (5, 7, 5, 2), (16, 13, 8, 1), (33, 6, 3, 3)] {
            let wp = side + 2, area = wp * wp, stride = (area + 15) / 16 * 16
            let rowLength = (images * stride + 2 + 63) / 64 * 64
            // Input rows with a zero border, as the decoder lays them out.
            var input = [Float](repeating: 0, count: inChannels * rowLength)
            let interior = values(inChannels * images * side * side, seed: 1)
            for c in 0..<inChannels {
                for b in 0..<images {
                    for y in 0..<side {
                        for x in 0..<side {
                            input[c * rowLength + b * stride + (y + 1) * wp + x + 1] = interior[((c * images + b) * side + y) * side + x]
                        }
                    }
                }
            }
            let weight = values(9 * outChannels * inChannels, seed: 2)  // [9][out][in]
            for kernel in kernels {
                for threads in [1, 2] {
                    let packed = weight.withUnsafeBufferPointer {
                        PackedConvolution(weight: $0.baseAddress!, outChannels: outChannels, inChannels: inChannels, kernel: kernel)
                    }
                    let pairs = BF16PairRows()
                    pairs.reserve(channels: inChannels, rowLength: rowLength)
                    input.withUnsafeBufferPointer { p in
                        for c in 0..<inChannels { pairs.write(p.baseAddress! + c * rowLength, count: rowLength, channel: c, column: 0) }
                    }
                    var output = [Float](repeating: 1, count: outChannels * rowLength)
                    output.withUnsafeMutableBufferPointer { o in
                        for b in 0..<images {
                            packed.apply(
                                pairs, paddedWidth: wp, columns: (b * stride)..<(b * stride + side * wp), into: o.baseAddress! + wp + 1,
                                outputStride: rowLength, accumulate: true, threads: threads)
                        }
                    }
                    for o in 0..<outChannels {
                        for b in 0..<images {
                            for y in 0..<side {
                                for x in 0..<side {
                                    var sum = 1.0
                                    for tap in 0..<9 {
                                        for c in 0..<inChannels {
                                            let v = input[c * rowLength + b * stride + (y + tap / 3) * wp + x + tap % 3]
                                            sum +=
                                                Double(BFloat16.round(weight[(tap * outChannels + o) * inChannels + c])) * Double(BFloat16.round(v))
                                        }
                                    }
                                    let got = output[o * rowLength + b * stride + (y + 1) * wp + x + 1]
                                    XCTAssertEqual(
                                        Double(got), sum, accuracy: 1e-4 * Double(9 * inChannels),
                                        "\(kernel) in \(inChannels) out \(outChannels) at \(o),\(b),\(y),\(x)")
                                }
                            }
                        }
                    }
                    XCTAssertEqual(packed.byteCount > 0, true)
                }
            }
        }
    }
}
