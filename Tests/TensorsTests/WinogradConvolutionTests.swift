import Foundation
import Tensors
import XCTest

/// Winograd F(4x4, 3x3) against a double-precision direct convolution on the decoder's padded
/// layout: sizes that are not multiples of the 4 x 4 tile, several images, bias, accumulation,
/// blocks of one tile row, and the border left unwritten.
final class WinogradConvolutionTests: XCTestCase {
    struct Case {
        let inChannels: Int, outChannels: Int, height: Int, width: Int, batch: Int
    }

    func random(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int64(bitPattern: state >> 11) % 2_000_001) / 1_000_000 - 1
        }
    }

    /// conv(input)[b][o][y][x] in double, weight `[9][out][in]`, zero padding.
    func direct(_ input: [Float], _ weight: [Float], _ c: Case) -> [Double] {
        var out = [Double](repeating: 0, count: c.batch * c.outChannels * c.height * c.width)
        for b in 0..<c.batch {
            for o in 0..<c.outChannels {
                for y in 0..<c.height {
                    for x in 0..<c.width {
                        var sum = 0.0
                        for i in 0..<c.inChannels {
                            for k in 0..<9 {
                                let sy = y + k / 3 - 1, sx = x + k % 3 - 1
                                guard sy >= 0, sy < c.height, sx >= 0, sx < c.width else { continue }
                                sum +=
                                    Double(weight[(k * c.outChannels + o) * c.inChannels + i])
                                    * Double(input[((b * c.inChannels + i) * c.height + sy) * c.width + sx])
                            }
                        }
                        out[((b * c.outChannels + o) * c.height + y) * c.width + x] = sum
                    }
                }
            }
        }
        return out
    }

    func layout(_ c: Case) -> PaddedImages {
        let area = (c.height + 2) * (c.width + 2), stride = (area + 15) / 16 * 16
        return PaddedImages(
            batch: c.batch, height: c.height, width: c.width, imageStride: stride, channelStride: (c.batch * stride + 2 + 63) / 64 * 64)
    }

    /// Unpadded `[b][c][y][x]` into the padded layout (border zero), or `fill` everywhere else.
    func pad(_ values: [Float], channels: Int, _ c: Case, _ images: PaddedImages, fill: Float = 0) -> [Float] {
        var padded = [Float](repeating: fill, count: channels * images.channelStride)
        for ch in 0..<channels {
            for b in 0..<c.batch {
                let image = ch * images.channelStride + b * images.imageStride
                for i in 0..<((c.height + 2) * (c.width + 2)) { padded[image + i] = 0 }
                for y in 0..<c.height {
                    for x in 0..<c.width {
                        padded[image + (y + 1) * (c.width + 2) + x + 1] = values[((b * channels + ch) * c.height + y) * c.width + x]
                    }
                }
            }
        }
        return padded
    }

    func interior(_ padded: [Float], channel: Int, image b: Int, y: Int, x: Int, _ c: Case, _ images: PaddedImages) -> Float {
        padded[channel * images.channelStride + b * images.imageStride + (y + 1) * (c.width + 2) + x + 1]
    }

    func run(
        _ c: Case, accumulate: Bool, bias: Bool, threads: Int, rowsPerBlock: Int?, seed: UInt64
    ) -> (output: [Float], expected: [Double], images: PaddedImages) {
        let images = layout(c)
        let input = random(c.batch * c.inChannels * c.height * c.width, seed: seed)
        let weight = random(9 * c.outChannels * c.inChannels, seed: seed + 1).map { $0 / Float(c.inChannels) }
        let biasValues = random(c.outChannels, seed: seed + 2)
        let previous = random(c.batch * c.outChannels * c.height * c.width, seed: seed + 3)
        var expected = direct(input, weight, c)
        for (index, value) in expected.enumerated() {
            let o = index / (c.height * c.width) % c.outChannels
            expected[index] = value + (bias ? Double(biasValues[o]) : 0) + (accumulate ? Double(previous[index]) : 0)
        }
        let paddedInput = pad(input, channels: c.inChannels, c, images)
        // The border and slack of the output hold a sentinel that must survive.
        var output = pad(accumulate ? previous : [Float](repeating: 0, count: previous.count), channels: c.outChannels, c, images, fill: 7)
        for ch in 0..<c.outChannels {
            for b in 0..<c.batch {
                for y in -1...c.height {
                    for x in -1...c.width where y < 0 || y == c.height || x < 0 || x == c.width {
                        output[ch * images.channelStride + b * images.imageStride + (y + 1) * (c.width + 2) + x + 1] = 7
                    }
                }
            }
        }
        let convolution = weight.withUnsafeBufferPointer {
            WinogradConvolution(weight: $0.baseAddress!, outChannels: c.outChannels, inChannels: c.inChannels)
        }
        XCTAssertEqual(convolution.byteCount, 36 * c.outChannels * c.inChannels * 4)
        var scratch = ScratchBuffer()
        biasValues.withUnsafeBufferPointer { biasPointer in
            output.withUnsafeMutableBufferPointer { out in
                convolution.apply(
                    paddedInput, into: out.baseAddress!, images: images, bias: bias ? biasPointer.baseAddress! : nil, accumulate: accumulate,
                    scratch: &scratch, threads: threads, gemmWorkers: threads, tileRowsPerBlock: rowsPerBlock)
            }
        }
        return (output, expected, images)
    }

    func testMatchesDirectConvolution() {
        let cases = [
            Case(inChannels: 1, outChannels: 1, height: 1, width: 1, batch: 1),
            Case(inChannels: 3, outChannels: 5, height: 4, width: 4, batch: 2),
            Case(inChannels: 5, outChannels: 3, height: 3, width: 7, batch: 1),
            Case(inChannels: 8, outChannels: 6, height: 9, width: 13, batch: 2),
            Case(inChannels: 17, outChannels: 9, height: 16, width: 6, batch: 1),
            Case(inChannels: 4, outChannels: 4, height: 2, width: 33, batch: 3),
        ]
        for (index, c) in cases.enumerated() {
            for (accumulate, bias, threads, rows) in [(false, false, 1, nil), (true, true, 2, 1), (false, true, 2, 2)] as [(Bool, Bool, Int, Int?)] {
                let (output, expected, images) = run(
                    c, accumulate: accumulate, bias: bias, threads: threads, rowsPerBlock: rows, seed: UInt64(index * 10 + 1))
                var maxError = 0.0
                for b in 0..<c.batch {
                    for o in 0..<c.outChannels {
                        for y in -1...c.height {
                            for x in -1...c.width {
                                let value = interior(output, channel: o, image: b, y: y, x: x, c, images)
                                if y < 0 || y == c.height || x < 0 || x == c.width {
                                    XCTAssertEqual(value, 7, "border written at \(y),\(x) in case \(index)")
                                } else {
                                    let want = expected[((b * c.outChannels + o) * c.height + y) * c.width + x]
                                    maxError = max(maxError, abs(Double(value) - want))
                                }
                            }
                        }
                    }
                }
                XCTAssertLessThan(maxError, 2e-5, "case \(index) accumulate \(accumulate) bias \(bias) rows \(rows.map(String.init) ?? "auto")")
                // Slack past the last image keeps its sentinel.
                let slack = c.batch * images.imageStride
                XCTAssertTrue(output[slack..<images.channelStride].allSatisfy { $0 == 7 }, "slack written in case \(index)")
            }
        }
    }

    func testBlocksAndThreadsGiveTheSameBits() {
        let c = Case(inChannels: 12, outChannels: 10, height: 11, width: 18, batch: 2)
        let reference = run(c, accumulate: false, bias: true, threads: 1, rowsPerBlock: nil, seed: 5).output
        XCTAssertEqual(run(c, accumulate: false, bias: true, threads: 2, rowsPerBlock: nil, seed: 5).output, reference)
        // Another block height changes the GEMMs' shapes: equal up to rounding only.
        let blocked = run(c, accumulate: false, bias: true, threads: 2, rowsPerBlock: 1, seed: 5).output
        for (a, b) in zip(blocked, reference) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }
}
