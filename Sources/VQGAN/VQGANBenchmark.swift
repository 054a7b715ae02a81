import ModelFiles
import Tensors

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
        do {
            decoder = try VQGANDecoder(
                configuration: configuration, archive: RandomWeights(configuration: configuration, seed: 0x5EED), precision: precision)
        } catch {
            preconditionFailure("random VQGAN weights do not load: \(error)")
        }
        decoder.batchedGEMM = batchedGEMM
        if let imagesPerPass { decoder.maxImagesPerPass = imagesPerPass }
        let side = configuration.latentSize
        var generator = SplitMix64(seed: 42)
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
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<repetitions { decodeOnce() }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let perImage = seconds / Double(repetitions * batch)
        let flops = VQGANDecoder.flopsPerImage(configuration, latentHeight: side, latentWidth: side)
        precondition(images.allSatisfy { $0.isFinite }, "benchmark decode produced non-finite values")
        return (perImage, flops / perImage / 1e9)
    }
}

/// SplitMix64: a small, fixed-seed generator for benchmark weights and tokens.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    mutating func symmetric() -> Float { Float(next() >> 40) * 0x1p-23 - 1 }
}

/// The decoder's tensors filled with random values of PyTorch-like scale: convolution weights
/// uniform with variance 1/fan_in, GroupNorm scales near 1, small biases, so that activations
/// stay of order one through the whole network. Generated on each read from the name's seed.
struct RandomWeights: TensorArchive {
    let sourceDescription: String
    let names: [String]
    private let shapes: [String: [Int]]
    private let seed: UInt64

    init(configuration: VQGANConfiguration, seed: UInt64) {
        sourceDescription = "random VQGAN weights (seed \(seed))"
        let list = VQGANDecoder.parameterShapes(configuration)
        shapes = Dictionary(list.map { ($0.name, $0.shape) }, uniquingKeysWith: { first, _ in first })
        names = list.map(\.name).sorted()
        self.seed = seed
    }

    func info(_ name: String) -> TensorInfo? { shapes[name].map { TensorInfo(dtype: .f32, shape: $0) } }

    func readFloats(_ name: String, into destination: UnsafeMutableBufferPointer<Float>) throws(ModelFileError) {
        guard let shape = shapes[name] else { throw .missingTensor(file: sourceDescription, name: name) }
        guard shape.reduce(1, *) == destination.count else {
            throw .malformed(file: sourceDescription, reason: "tensor '\(name)' read with \(destination.count) elements")
        }
        var nameHash: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a: stable across runs
        for byte in name.utf8 { nameHash = (nameHash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        var generator = SplitMix64(seed: seed ^ nameHash)
        let (center, scale): (Float, Float)
        if name.hasPrefix("quantize.") {
            (center, scale) = (0, 1)
        } else if shape.count == 4 {
            (center, scale) = (0, (3 / Float(shape[1] * shape[2] * shape[3])).squareRoot())
        } else if name.hasSuffix(".weight") {
            (center, scale) = (1, 0.1)  // GroupNorm scale
        } else {
            (center, scale) = (0, 0.05)
        }
        for i in destination.indices { destination[i] = center + scale * generator.symmetric() }
    }

    func readInts(_ name: String) throws(ModelFileError) -> [Int] {
        throw .wrongType(file: sourceDescription, name: name, dtype: "F32")
    }
}
