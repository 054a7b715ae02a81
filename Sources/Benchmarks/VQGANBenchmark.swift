import DurationSeconds
import ENAT
import ModelFiles
import Tensors
import VQGAN

/// Times the decoder at the released shape (ch 128, ch_mult [1,1,2,2,4], z 256, 16 x 16 tokens
/// to 256 px) on random weights, for `enat bench`.
public enum VQGANBenchmark {
    /// Decodes `batch` random token grids `repetitions` times after one warm-up decode (which
    /// also allocates the scratch memory). Returns the mean seconds per image and the achieved
    /// GFLOP/s (186.5 GFLOP of convolutions per image). Sets OpenBLAS to 2 threads.
    /// `batchedGEMM` and `imagesPerPass` set the decoder's options of the same names.
    public static func run(
        batch: Int, repetitions: Int, batchedGEMM: Bool = false, imagesPerPass: Int? = nil, precision: ComputePrecision = .fp32
    ) -> (secondsPerImage: Double, gflops: Double) {
        let batch = max(batch, 1), repetitions = max(repetitions, 1)
        let configuration = VQGANConfiguration.released
        BLAS.setThreads(2)
        let decoder: VQGANDecoder
        let weights = RandomArchive(shapes: VQGANDecoder.parameterShapes(configuration).map { ($0.name, $0.shape) }, seed: 0x5EED)
        do {
            decoder = try VQGANDecoder(configuration: configuration, archive: weights, precision: precision)
        } catch {
            preconditionFailure("random VQGAN weights do not load: \(error)")
        }
        decoder.batchedGEMM = batchedGEMM
        if let imagesPerPass { decoder.maxImagesPerPass = imagesPerPass }
        let side = configuration.latentSize
        var generator = SeededRandom(seed: 42)
        let tokens = (0..<(batch * side * side)).map { _ in Int32(generator.next() % UInt64(configuration.nEmbed)) }
        let size = decoder.imageSize(latentHeight: side, latentWidth: side)
        var images = [Float](repeating: 0, count: batch * configuration.outCh * size.height * size.width)
        func decodeOnce() {
            tokens.withUnsafeBufferPointer { t in
                images.withUnsafeMutableBufferPointer { o in
                    do { try decoder.decode(tokens: t, batch: batch, into: o) } catch {
                        preconditionFailure("benchmark decode failed: \(error)")
                    }
                }
            }
        }
        decodeOnce()
        let start = ContinuousClock.now
        for _ in 0..<repetitions { decodeOnce() }
        let perImage = (ContinuousClock.now - start).inSeconds / Double(repetitions * batch)
        let flops = VQGANDecoder.flopsPerImage(configuration, latentHeight: side, latentWidth: side)
        precondition(images.allSatisfy { $0.isFinite }, "benchmark decode produced non-finite values")
        return (perImage, flops / perImage / 1e9)
    }
}
