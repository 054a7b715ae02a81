import ModelFiles
import Tensors

/// The VQGAN decoder of the MaskGIT lineage: image tokens to RGB pixels.
///
/// `z = codebook[tokens]`, `conv_in`, two middle residual blocks, then per level from the
/// deepest `num_res_blocks` residual blocks and (above level 0) nearest x2 upsampling with a
/// 3x3 convolution, then `norm_out`, swish and `conv_out`. No attention, no `post_quant_conv`
/// (the released checkpoint has none). A residual block whose channel count changes returns
/// `nin_shortcut(h) + h` with `h` the block's own branch, as the official JAX-derived code does.
///
/// In float32 the 3x3 convolutions of the stages at 4x the latent size and above (90% of the
/// work) run as Winograd F(4x4, 3x3); the others as nine shifted GEMMs.
///
/// Thread ownership: an instance holds its scratch memory and is used by one inference thread
/// at a time (it is deliberately not `Sendable`). A decode sets OpenBLAS to one thread and
/// splits its GEMMs, like its element-wise passes, over `elementwiseThreads` Dispatch workers
/// (OpenBLAS's own workers would spin beside them); it restores OpenBLAS's thread count after.
public final class VQGANDecoder {
    public static let groupNormGroups = 32
    public static let groupNormEpsilon: Float = 1e-6

    public let configuration: VQGANConfiguration
    /// Images that go through the network together; a larger batch is decoded in passes of
    /// this many, which bounds the scratch memory (about 100 MB per image at 256 px). With
    /// per-image GEMMs (the default) one image per pass is as fast as more; raise it together
    /// with `batchedGEMM`.
    public var maxImagesPerPass: Int = 1
    /// Threads for the GEMMs, GroupNorm, swish, upsampling and the last convolution's gather.
    public var elementwiseThreads: Int = 2
    /// One GEMM per convolution tap for all the images of a pass rather than one per image
    /// (with `maxImagesPerPass` > 1). At most about 3% faster at 256 px (measured 0-3%: only
    /// the 16 x 16 and 32 x 32 stages gain), but an image's last bits then depend on its place
    /// in the batch (about 1e-5 after the whole network with OpenBLAS's Haswell kernels). Off
    /// by default: an image decodes to the same bits alone or in any batch.
    public var batchedGEMM = false

    struct Norm {
        let weight: FloatBuffer
        let bias: FloatBuffer
    }

    struct ResidualBlock {
        let inChannels: Int
        let outChannels: Int
        let norm1: Norm
        let conv1: Convolution
        let norm2: Norm
        let conv2: Convolution
        /// `nin_shortcut.weight + I`, `[out, out]`: the output is `(W + I) h`.
        let shortcutPlusIdentity: FloatBuffer?
    }

    struct Level {
        let blocks: [ResidualBlock]
        let upsample: Convolution?
    }

    let codebook: FloatBuffer  // [n_embed, embed_dim]
    let convIn: Convolution
    let middle: [ResidualBlock]
    /// In execution order: the deepest level first.
    let levels: [Level]
    let normOut: Norm
    let convOut: Convolution

    /// The number format of the 3x3 convolutions (the last one, to three channels, and the
    /// 1x1 shortcuts stay float32: they are about 1% of the work).
    public let precision: ComputePrecision

    private var bufferX = FloatBuffer(count: 0)
    private let pairs = BF16PairRows()
    private var bufferT = FloatBuffer(count: 0)
    private var bufferH = FloatBuffer(count: 0)
    private var winogradScratch = ScratchBuffer()

    /// Stages at this multiple of the latent size or more run their float32 3x3 convolutions
    /// as Winograd F(4x4, 3x3). Below it the GEMMs over 16 to 64 tiles per image are skinny,
    /// and the 512-channel weights would take 4x their memory.
    static let winogradFromScale = 4

    // MARK: Loading

    /// Loads `decoder.*` and `quantize.embedding.weight` from `archive` (official key names;
    /// strip any prefix with `scoped`). Other keys are ignored. Weights are copied to float32.
    public init(configuration: VQGANConfiguration, archive: any TensorArchive, precision: ComputePrecision = .fp32) throws(ModelFileError) {
        if let problem = configuration.problem {
            throw .unsupported(file: archive.sourceDescription, reason: "VQGAN configuration: \(problem)")
        }
        precondition(precision == .fp32 || BF16Kernel.best != nil, "bf16 needs a bf16 kernel: resolve the precision first")
        self.configuration = configuration
        self.precision = precision
        let loader = WeightLoader(archive: archive, precision: precision)
        let c = configuration
        codebook = try loader.matrix("quantize.embedding.weight", [c.nEmbed, c.embedDim])
        let top = c.ch * c.chMult[c.chMult.count - 1]
        convIn = try loader.convolution("decoder.conv_in", in: c.zChannels, out: top, bias: true)
        middle = [
            try loader.residualBlock("decoder.mid.block_1", in: top, out: top),
            try loader.residualBlock("decoder.mid.block_2", in: top, out: top),
        ]
        // Level i runs at 2^(levels - 1 - i) times the latent size, its upsampling convolution at twice that.
        func winograd(scale: Int) -> Bool { scale >= Self.winogradFromScale }
        var channels = top
        var levels: [Level] = []
        for i in stride(from: c.chMult.count - 1, through: 0, by: -1) {
            let out = c.ch * c.chMult[i]
            var blocks: [ResidualBlock] = []
            for j in 0..<c.numResBlocks {
                blocks.append(
                    try loader.residualBlock(
                        "decoder.up.\(i).block.\(j)", in: channels, out: out, winograd: winograd(scale: 1 << (c.chMult.count - 1 - i))))
                channels = out
            }
            let upsample =
                i == 0
                ? nil
                : try loader.convolution(
                    "decoder.up.\(i).upsample.conv", in: channels, out: channels, bias: true, winograd: winograd(scale: 1 << (c.chMult.count - i)))
            levels.append(Level(blocks: blocks, upsample: upsample))
        }
        self.levels = levels
        normOut = try loader.norm("decoder.norm_out", channels)
        convOut = try loader.convolution("decoder.conv_out", in: channels, out: c.outCh, bias: true, precision: .fp32)
    }

    /// Every tensor the decoder reads, with its official name and shape, in load order.
    public static func parameterShapes(_ c: VQGANConfiguration) -> [(name: String, shape: [Int])] {
        var list: [(name: String, shape: [Int])] = [("quantize.embedding.weight", [c.nEmbed, c.embedDim])]
        func conv(_ name: String, _ i: Int, _ o: Int, k: Int = 3, bias: Bool) {
            list.append(("\(name).weight", [o, i, k, k]))
            if bias { list.append(("\(name).bias", [o])) }
        }
        func norm(_ name: String, _ n: Int) {
            list.append(("\(name).weight", [n]))
            list.append(("\(name).bias", [n]))
        }
        func block(_ name: String, _ i: Int, _ o: Int) {
            norm("\(name).norm1", i)
            conv("\(name).conv1", i, o, bias: false)
            norm("\(name).norm2", o)
            conv("\(name).conv2", o, o, bias: false)
            if i != o { conv("\(name).nin_shortcut", o, o, k: 1, bias: false) }
        }
        let top = c.ch * (c.chMult.last ?? 1)
        conv("decoder.conv_in", c.zChannels, top, bias: true)
        block("decoder.mid.block_1", top, top)
        block("decoder.mid.block_2", top, top)
        var channels = top
        for i in stride(from: c.chMult.count - 1, through: 0, by: -1) {
            let out = c.ch * c.chMult[i]
            for j in 0..<c.numResBlocks {
                block("decoder.up.\(i).block.\(j)", channels, out)
                channels = out
            }
            if i != 0 { conv("decoder.up.\(i).upsample.conv", channels, channels, bias: true) }
        }
        norm("decoder.norm_out", channels)
        conv("decoder.conv_out", channels, c.outCh, bias: true)
        return list
    }

    /// Multiply-adds x 2 of one image whose latent grid is `latentHeight x latentWidth`
    /// (convolutions only: 186.5 GFLOP for the released model at 16 x 16 tokens).
    public static func flopsPerImage(_ c: VQGANConfiguration, latentHeight: Int, latentWidth: Int) -> Double {
        var pixels = Double(latentHeight * latentWidth)
        var total = 0.0
        func conv(_ i: Int, _ o: Int, taps: Double = 9) { total += 2 * Double(i) * Double(o) * taps * pixels }
        func block(_ i: Int, _ o: Int) {
            conv(i, o)
            conv(o, o)
            if i != o { conv(o, o, taps: 1) }
        }
        let top = c.ch * (c.chMult.last ?? 1)
        conv(c.zChannels, top)
        block(top, top)
        block(top, top)
        var channels = top
        for i in stride(from: c.chMult.count - 1, through: 0, by: -1) {
            let out = c.ch * c.chMult[i]
            for _ in 0..<c.numResBlocks {
                block(channels, out)
                channels = out
            }
            if i != 0 {
                pixels *= 4
                conv(channels, channels)
            }
        }
        conv(channels, c.outCh)
        return total
    }

    // MARK: Decoding

    /// Image side lengths for a latent grid.
    public func imageSize(latentHeight: Int, latentWidth: Int) -> (height: Int, width: Int) {
        (latentHeight * configuration.downsamplingFactor, latentWidth * configuration.downsamplingFactor)
    }

    /// Decodes `batch` token grids (row-major, `batch x h x w`, default grid
    /// `configuration.latentSize` square) to `[batch, out_ch, H, W]` float32, before clamping.
    public func decode(tokens: [Int32], batch: Int, latentHeight: Int? = nil, latentWidth: Int? = nil) throws(VQGANError) -> [Float] {
        let lh = latentHeight ?? configuration.latentSize, lw = latentWidth ?? configuration.latentSize
        guard batch >= 0, lh > 0, lw > 0 else {
            throw .invalidArgument("batch \(batch) and latent grid \(lh)x\(lw) must be positive")
        }
        // Sizes may come from a file: every product below is checked once here.
        guard configuration.outputCount(batch: batch, latentHeight: lh, latentWidth: lw, limit: VQGANConfiguration.Limits.decodedFloats) != nil
        else { throw .invalidArgument("\(batch) images of a \(lh)x\(lw) token grid exceed \(VQGANConfiguration.Limits.decodedFloats) output floats") }
        let size = imageSize(latentHeight: lh, latentWidth: lw)
        var images = [Float](repeating: 0, count: batch * configuration.outCh * size.height * size.width)
        try tokens.withUnsafeBufferPointer { (t) throws(VQGANError) in
            try images.withUnsafeMutableBufferPointer { (o) throws(VQGANError) in
                try decode(tokens: t, batch: batch, latentHeight: lh, latentWidth: lw, into: o)
            }
        }
        return images
    }

    /// Decodes into a caller buffer of exactly `batch * out_ch * H * W` floats.
    public func decode(
        tokens: UnsafeBufferPointer<Int32>, batch: Int, latentHeight: Int? = nil, latentWidth: Int? = nil,
        into output: UnsafeMutableBufferPointer<Float>
    ) throws(VQGANError) {
        let lh = latentHeight ?? configuration.latentSize, lw = latentWidth ?? configuration.latentSize
        guard batch >= 0, lh > 0, lw > 0 else {
            throw .invalidArgument("batch \(batch) and latent grid \(lh)x\(lw) must be positive")
        }
        // Sizes may come from a file: every product below is checked once here.
        guard configuration.outputCount(batch: batch, latentHeight: lh, latentWidth: lw, limit: VQGANConfiguration.Limits.decodedFloats) != nil
        else { throw .invalidArgument("\(batch) images of a \(lh)x\(lw) token grid exceed \(VQGANConfiguration.Limits.decodedFloats) output floats") }
        let perImageTokens = lh * lw
        guard tokens.count == batch * perImageTokens else {
            throw .tokenCountMismatch(expected: batch * perImageTokens, found: tokens.count)
        }
        let size = imageSize(latentHeight: lh, latentWidth: lw)
        let perImageOutput = configuration.outCh * size.height * size.width
        guard output.count == batch * perImageOutput else {
            throw .outputCountMismatch(expected: batch * perImageOutput, found: output.count)
        }
        for (index, token) in tokens.enumerated() where token < 0 || Int(token) >= configuration.nEmbed {
            throw .tokenOutOfRange(index: index, value: token, codebookSize: configuration.nEmbed)
        }
        guard batch > 0, let tokenBase = tokens.baseAddress, let outputBase = output.baseAddress else { return }
        let chunk = max(1, maxImagesPerPass)
        var start = 0
        while start < batch {
            let count = min(chunk, batch - start)
            decodeChunk(
                tokens: tokenBase + start * perImageTokens,
                grid: Grid(batch: count, height: lh, width: lw, batchedGEMM: batchedGEMM),
                into: outputBase + start * perImageOutput)
            start += count
        }
    }

    /// Floats of the largest activation (or of the last convolution's tap matrix) for `grid`.
    private func scratchFloats(_ start: Grid) -> Int {
        var grid = start
        var largest = max(configuration.zChannels, convIn.outChannels) * grid.rowLength
        for level in levels {
            for block in level.blocks { largest = max(largest, max(block.inChannels, block.outChannels) * grid.rowLength) }
            if let up = level.upsample {
                grid = grid.upsampled
                largest = max(largest, up.outChannels * grid.rowLength)
            }
        }
        return max(largest, 9 * convOut.outChannels * grid.rowLength)
    }

    private func reserve(_ buffer: inout FloatBuffer, _ count: Int) -> UnsafeMutablePointer<Float> {
        if buffer.count < count { buffer = FloatBuffer(count: count) }
        return buffer.pointer
    }

    private func decodeChunk(tokens: UnsafePointer<Int32>, grid start: Grid, into output: UnsafeMutablePointer<Float>) {
        // The Dispatch workers own the cores: no OpenBLAS thread spins beside them.
        let blasThreads = BLAS.threads
        if blasThreads != 1 { BLAS.setThreads(1) }
        defer { if BLAS.threads != blasThreads { BLAS.setThreads(blasThreads) } }
        if precision == .bf16 {
            decodeChunkBF16(tokens: tokens, grid: start, into: output)
            return
        }
        let needed = scratchFloats(start)
        let x = reserve(&bufferX, needed), t = reserve(&bufferT, needed), h = reserve(&bufferH, needed)
        let threads = elementwiseThreads
        var grid = start

        // z = codebook[tokens], channel-major with a zero border, into t.
        let dim = configuration.embedDim
        let ld = grid.rowLength
        t.update(repeating: 0, count: dim * ld)
        let table = codebook.pointer
        for b in 0..<grid.batch {
            for y in 0..<grid.height {
                for xx in 0..<grid.width {
                    let code = table + Int(tokens[(b * grid.height + y) * grid.width + xx]) * dim
                    let at = grid.interior(image: b, row: y) + xx
                    for c in 0..<dim { t[c * ld + at] = code[c] }
                }
            }
        }
        convolve(convIn, t, into: x, grid: grid, accumulate: false)
        var channels = convIn.outChannels
        for block in middle { residual(block, x: x, t: t, h: h, grid: grid) }
        for level in levels {
            for block in level.blocks {
                residual(block, x: x, t: t, h: h, grid: grid)
                channels = block.outChannels
            }
            if let up = level.upsample {
                upsampleNearest(x, into: t, channels: channels, grid: grid, threads: threads)
                grid = grid.upsampled
                convolve(up, t, into: x, grid: grid, accumulate: false)
            }
        }
        groupNormSwish(
            x, into: t, channels: channels, grid: grid, groups: Self.groupNormGroups, eps: Self.groupNormEpsilon,
            weight: normOut.weight.pointer, bias: normOut.bias.pointer, threads: threads)
        convOut.applyToImages(t, scratch: h, into: output, grid: grid, threads: threads, gemmWorkers: threads)
    }

    /// One residual block on the stream in `x` (result back in `x`); `t` and `h` are scratch.
    private func residual(
        _ block: ResidualBlock, x: UnsafeMutablePointer<Float>, t: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>, grid: Grid
    ) {
        let threads = elementwiseThreads
        groupNormSwish(
            x, into: t, channels: block.inChannels, grid: grid, groups: Self.groupNormGroups, eps: Self.groupNormEpsilon,
            weight: block.norm1.weight.pointer, bias: block.norm1.bias.pointer, threads: threads)
        convolve(block.conv1, t, into: h, grid: grid, accumulate: false)
        groupNormSwish(
            h, into: t, channels: block.outChannels, grid: grid, groups: Self.groupNormGroups, eps: Self.groupNormEpsilon,
            weight: block.norm2.weight.pointer, bias: block.norm2.bias.pointer, threads: threads)
        if let shortcut = block.shortcutPlusIdentity {
            // x is not used again (the shortcut takes h): h = conv2(t), x = (W + I) h.
            convolve(block.conv2, t, into: h, grid: grid, accumulate: false)
            self.shortcut(block, shortcut, h, into: x, grid: grid)
        } else {
            convolve(block.conv2, t, into: x, grid: grid, accumulate: true)
        }
    }

    /// A float32 convolution with the GEMMs split over the workers.
    private func convolve(
        _ convolution: Convolution, _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, grid: Grid, accumulate: Bool
    ) {
        convolution.apply(
            input, into: output, grid: grid, accumulate: accumulate, threads: elementwiseThreads, gemmWorkers: elementwiseThreads,
            winogradScratch: &winogradScratch)
    }

    /// `x = (W + I) h` over the convolution columns of `grid`.
    private func shortcut(_ block: ResidualBlock, _ weight: FloatBuffer, _ h: UnsafePointer<Float>, into x: UnsafeMutablePointer<Float>, grid: Grid) {
        let ld = grid.rowLength, spans = grid.convolutionSpans
        for span in 0..<spans.count {
            let offset = span * spans.step + grid.paddedWidth + 1
            rowSplitGEMM(
                m: block.outChannels, n: spans.length, k: block.outChannels, a: weight.pointer, lda: block.outChannels, b: h + offset,
                ldb: ld, c: x + offset, ldc: ld, workers: elementwiseThreads)
        }
    }
}

extension VQGANDecoder {
    /// `decodeChunk` with bf16 3x3 convolutions: their inputs (the codebook vectors, each
    /// GroupNorm + swish, each upsampling) are written as bfloat16 pairs; everything else is as
    /// in float32.
    private func decodeChunkBF16(tokens: UnsafePointer<Int32>, grid start: Grid, into output: UnsafeMutablePointer<Float>) {
        let needed = scratchFloats(start)
        let x = reserve(&bufferX, needed), t = reserve(&bufferT, needed), h = reserve(&bufferH, needed)
        let threads = elementwiseThreads
        var grid = start

        // z = codebook[tokens] as bfloat16 pairs with a zero border.
        let dim = configuration.embedDim, ld = grid.rowLength
        pairs.reserve(channels: dim, rowLength: ld)
        let table = codebook.pointer
        withUnsafeTemporaryAllocation(of: Float.self, capacity: ld) { row in
            let r = row.baseAddress!
            for c in 0..<dim {
                r.update(repeating: 0, count: ld)
                for b in 0..<grid.batch {
                    for y in 0..<grid.height {
                        for xx in 0..<grid.width {
                            r[grid.interior(image: b, row: y) + xx] = table[Int(tokens[(b * grid.height + y) * grid.width + xx]) * dim + c]
                        }
                    }
                }
                pairs.write(r, count: ld, channel: c, column: 0)
            }
        }
        convIn.apply(pairs, into: x, grid: grid, accumulate: false, threads: threads)
        var channels = convIn.outChannels
        for block in middle { residualBF16(block, x: x, h: h, grid: grid) }
        for level in levels {
            for block in level.blocks {
                residualBF16(block, x: x, h: h, grid: grid)
                channels = block.outChannels
            }
            if let up = level.upsample {
                upsampleNearest(x, intoPairs: pairs, channels: channels, grid: grid, threads: threads)
                grid = grid.upsampled
                up.apply(pairs, into: x, grid: grid, accumulate: false, threads: threads)
            }
        }
        groupNormSwish(
            x, into: t, channels: channels, grid: grid, groups: Self.groupNormGroups, eps: Self.groupNormEpsilon,
            weight: normOut.weight.pointer, bias: normOut.bias.pointer, threads: threads)
        convOut.applyToImages(t, scratch: h, into: output, grid: grid, threads: threads, gemmWorkers: threads)
    }

    private func residualBF16(_ block: ResidualBlock, x: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>, grid: Grid) {
        let threads = elementwiseThreads
        groupNormSwish(
            x, intoPairs: pairs, channels: block.inChannels, grid: grid, groups: Self.groupNormGroups, eps: Self.groupNormEpsilon,
            weight: block.norm1.weight.pointer, bias: block.norm1.bias.pointer, threads: threads)
        block.conv1.apply(pairs, into: h, grid: grid, accumulate: false, threads: threads)
        groupNormSwish(
            h, intoPairs: pairs, channels: block.outChannels, grid: grid, groups: Self.groupNormGroups, eps: Self.groupNormEpsilon,
            weight: block.norm2.weight.pointer, bias: block.norm2.bias.pointer, threads: threads)
        if let shortcut = block.shortcutPlusIdentity {
            block.conv2.apply(pairs, into: h, grid: grid, accumulate: false, threads: threads)
            self.shortcut(block, shortcut, h, into: x, grid: grid)
        } else {
            block.conv2.apply(pairs, into: x, grid: grid, accumulate: true, threads: threads)
        }
    }
}

/// Reads and checks the decoder's tensors, naming the key in every error.
struct WeightLoader {
    let archive: any TensorArchive
    /// The format of the 3x3 convolutions.
    let precision: ComputePrecision

    func floats(_ name: String, _ shape: [Int]) throws(ModelFileError) -> FloatBuffer {
        let info = try archive.require(name, shape: shape)
        guard info.dtype.isFloatingPoint else {
            throw .wrongType(file: archive.sourceDescription, name: name, dtype: info.dtype.rawValue)
        }
        let buffer = FloatBuffer(count: info.elementCount)
        try archive.readFloats(name, into: buffer.buffer)
        return buffer
    }

    func matrix(_ name: String, _ shape: [Int]) throws(ModelFileError) -> FloatBuffer { try floats(name, shape) }

    func norm(_ name: String, _ channels: Int) throws(ModelFileError) -> VQGANDecoder.Norm {
        VQGANDecoder.Norm(weight: try floats("\(name).weight", [channels]), bias: try floats("\(name).bias", [channels]))
    }

    /// `[out, in, 3, 3]` re-laid out as `[9][out][in]`, then packed in bf16, or in float32 with
    /// `winograd` transformed for Winograd F(4x4, 3x3) (the plain layout is then dropped).
    func convolution(
        _ name: String, in i: Int, out o: Int, bias: Bool, precision: ComputePrecision? = nil, winograd: Bool = false
    ) throws(ModelFileError) -> Convolution {
        let raw = try floats("\(name).weight", [o, i, 3, 3])
        let weight = FloatBuffer(count: 9 * o * i)
        for oc in 0..<o {
            for ic in 0..<i {
                for k in 0..<9 { weight.pointer[(k * o + oc) * i + ic] = raw.pointer[(oc * i + ic) * 9 + k] }
            }
        }
        let b = bias ? try floats("\(name).bias", [o]) : nil
        if (precision ?? self.precision) == .bf16, let kernel = BF16Kernel.best {
            let packed = PackedConvolution(weight: weight.pointer, outChannels: o, inChannels: i, kernel: kernel)
            return Convolution(weight: nil, packed: packed, bias: b, inChannels: i, outChannels: o)
        }
        if winograd {
            let transformed = WinogradConvolution(weight: weight.pointer, outChannels: o, inChannels: i)
            return Convolution(weight: nil, packed: nil, bias: b, inChannels: i, outChannels: o, winograd: transformed)
        }
        return Convolution(weight: weight, packed: nil, bias: b, inChannels: i, outChannels: o)
    }

    func residualBlock(_ name: String, in i: Int, out o: Int, winograd: Bool = false) throws(ModelFileError) -> VQGANDecoder.ResidualBlock {
        let norm1 = try norm("\(name).norm1", i)
        let conv1 = try convolution("\(name).conv1", in: i, out: o, bias: false, winograd: winograd)
        let norm2 = try norm("\(name).norm2", o)
        let conv2 = try convolution("\(name).conv2", in: o, out: o, bias: false, winograd: winograd)
        var shortcut: FloatBuffer?
        if i != o {
            let w = try floats("\(name).nin_shortcut.weight", [o, o, 1, 1])
            for d in 0..<o { w.pointer[d * o + d] += 1 }
            shortcut = w
        }
        return VQGANDecoder.ResidualBlock(
            inChannels: i, outChannels: o, norm1: norm1, conv1: conv1, norm2: norm2, conv2: conv2,
            shortcutPlusIdentity: shortcut)
    }
}
