import ModelFiles
import Tensors

/// The VQGAN encoder of the released tokenizer and its quantizer: RGB pixels to image tokens.
///
/// Mirrors the encoder of `vqgan_jax_strongaug.ckpt` (MaskGIT's JAX encoder as ported to PyTorch
/// by MAGE and run by ENAT's `extract_imagenet_feature.py`; our PyTorch reference is
/// `ReleasedEncoder` in tools/train/vqgan.py). Input RGB in [0, 1]: 8-bit pixels divided by 255,
/// as ENAT's dataset does (no [-1, 1] mapping; the decoder's output is in [0, 1] as well).
/// `conv_in` 3x3 without bias to `ch`; per level `num_res_blocks` residual blocks to
/// `ch * ch_mult[i]` and, except at the last level, 2x2 average pooling (the checkpoint has no
/// downsampling weights); `mid.block_1`, `mid.block_2`; `norm_out`, swish, `conv_out` 1x1 with
/// bias to `z_channels`. Residual blocks as in the decoder, with its `nin_shortcut(h) + h` quirk
/// (the checkpoint's shortcuts are `[out, out]`). No attention, no `quant_conv`. A token is the
/// nearest codebook row by squared Euclidean distance, the lowest index on ties.
///
/// Float32 only. Thread ownership as `VQGANDecoder`: one inference thread at a time; each
/// image goes through the network alone, so it encodes to the same bits alone or in a batch.
public final class VQGANEncoder {
    public let configuration: VQGANConfiguration
    /// Threads for GroupNorm, swish and pooling.
    public var elementwiseThreads: Int = 2

    struct Level {
        let blocks: [VQGANDecoder.ResidualBlock]
        let downsample: Bool
    }

    let codebook: FloatBuffer  // [n_embed, embed_dim]
    let codeNorms: FloatBuffer  // [n_embed]: |e_k|^2
    let convIn: Convolution  // [ch, 3, 3, 3], no bias
    let levels: [Level]
    let middle: [VQGANDecoder.ResidualBlock]
    let normOut: VQGANDecoder.Norm
    let convOut: FloatBuffer  // [z_channels, channels] (the 1x1 kernel)
    let convOutBias: FloatBuffer  // [z_channels]

    private var bufferX = FloatBuffer(count: 0)
    private var bufferT = FloatBuffer(count: 0)
    private var bufferH = FloatBuffer(count: 0)

    /// The key whose presence marks an archive that holds an encoder.
    public static let presenceKey = "encoder.conv_in.weight"

    /// Whether `archive` holds encoder weights (bundles may leave them out).
    public static func isPresent(in archive: any TensorArchive) -> Bool { archive.info(presenceKey) != nil }

    // MARK: Loading

    /// Loads `encoder.*` and `quantize.embedding.weight` from `archive` (official key names; strip
    /// any prefix with `scoped`). Other keys are ignored. Weights are copied to float32.
    public init(configuration: VQGANConfiguration, archive: any TensorArchive) throws(ModelFileError) {
        if let problem = configuration.problem {
            throw .unsupported(file: archive.sourceDescription, reason: "VQGAN configuration: \(problem)")
        }
        self.configuration = configuration
        let loader = WeightLoader(archive: archive, precision: .fp32)
        let c = configuration
        codebook = try loader.matrix("quantize.embedding.weight", [c.nEmbed, c.embedDim])
        codeNorms = FloatBuffer(count: c.nEmbed)
        for k in 0..<c.nEmbed {
            var sum: Float = 0
            for d in 0..<c.embedDim { sum += codebook.pointer[k * c.embedDim + d] * codebook.pointer[k * c.embedDim + d] }
            codeNorms.pointer[k] = sum
        }
        convIn = try loader.convolution("encoder.conv_in", in: 3, out: c.ch, bias: false)
        var channels = c.ch
        var levels: [Level] = []
        for (i, multiplier) in c.chMult.enumerated() {
            var blocks: [VQGANDecoder.ResidualBlock] = []
            for j in 0..<c.numResBlocks {
                blocks.append(try loader.residualBlock("encoder.down.\(i).block.\(j)", in: channels, out: c.ch * multiplier))
                channels = c.ch * multiplier
            }
            levels.append(Level(blocks: blocks, downsample: i != c.chMult.count - 1))
        }
        self.levels = levels
        middle = [
            try loader.residualBlock("encoder.mid.block_1", in: channels, out: channels),
            try loader.residualBlock("encoder.mid.block_2", in: channels, out: channels),
        ]
        normOut = try loader.norm("encoder.norm_out", channels)
        convOut = try loader.floats("encoder.conv_out.weight", [c.zChannels, channels, 1, 1])
        convOutBias = try loader.floats("encoder.conv_out.bias", [c.zChannels])
    }

    /// Every tensor the encoder reads, with its official name and shape, in load order.
    public static func parameterShapes(_ c: VQGANConfiguration) -> [(name: String, shape: [Int])] {
        var list: [(name: String, shape: [Int])] = [("quantize.embedding.weight", [c.nEmbed, c.embedDim])]
        func norm(_ name: String, _ n: Int) {
            list.append(("\(name).weight", [n]))
            list.append(("\(name).bias", [n]))
        }
        func block(_ name: String, _ i: Int, _ o: Int) {
            norm("\(name).norm1", i)
            list.append(("\(name).conv1.weight", [o, i, 3, 3]))
            norm("\(name).norm2", o)
            list.append(("\(name).conv2.weight", [o, o, 3, 3]))
            if i != o { list.append(("\(name).nin_shortcut.weight", [o, o, 1, 1])) }
        }
        list.append(("encoder.conv_in.weight", [c.ch, 3, 3, 3]))
        var channels = c.ch
        for (i, multiplier) in c.chMult.enumerated() {
            for j in 0..<c.numResBlocks {
                block("encoder.down.\(i).block.\(j)", channels, c.ch * multiplier)
                channels = c.ch * multiplier
            }
        }
        block("encoder.mid.block_1", channels, channels)
        block("encoder.mid.block_2", channels, channels)
        norm("encoder.norm_out", channels)
        list.append(("encoder.conv_out.weight", [c.zChannels, channels, 1, 1]))
        list.append(("encoder.conv_out.bias", [c.zChannels]))
        return list
    }

    // MARK: Encoding

    /// Token grid side lengths for an image (its sides must be multiples of the downsampling factor).
    public func latentSize(height: Int, width: Int) -> (height: Int, width: Int) {
        (height / configuration.downsamplingFactor, width / configuration.downsamplingFactor)
    }

    /// The tokens of `batch` images given as 8-bit RGB, interleaved and row-major
    /// (`batch x height x width x 3` bytes): `batch x h x w` token ids, row-major.
    public func encode(rgb: [UInt8], batch: Int, height: Int, width: Int) throws(VQGANError) -> [Int32] {
        let z = try latents(rgb: rgb, batch: batch, height: height, width: width)
        let size = latentSize(height: height, width: width)
        return try tokens(latents: z, batch: batch, latentHeight: size.height, latentWidth: size.width)
    }

    /// The encoder output of 8-bit RGB images (layout as `encode`): `[batch, z_channels, h, w]`.
    public func latents(rgb: [UInt8], batch: Int, height: Int, width: Int) throws(VQGANError) -> [Float] {
        try checkImageSize(batch: batch, height: height, width: width, count: rgb.count, channelsLast: true)
        return rgb.withUnsafeBufferPointer { pixels in
            run(batch: batch, height: height, width: width) { b, grid, into in
                // [0, 255] -> [0, 1]: the division (not a multiplication by 1/255) rounds as PyTorch's `x / 255`.
                let plane = height * width
                let image = pixels.baseAddress! + b * plane * 3
                for y in 0..<height {
                    for c in 0..<3 {
                        let row = into + c * grid.rowLength + grid.interior(image: 0, row: y)
                        for x in 0..<width { row[x] = Float(image[(y * width + x) * 3 + c]) / 255 }
                    }
                }
            }
        }
    }

    /// The encoder output of float images `[batch, 3, height, width]` already in [0, 1] (values
    /// outside are encoded as given; they must be finite): `[batch, z_channels, h, w]`.
    public func latents(image: [Float], batch: Int, height: Int, width: Int) throws(VQGANError) -> [Float] {
        try checkImageSize(batch: batch, height: height, width: width, count: image.count, channelsLast: false)
        if let bad = image.firstIndex(where: { !$0.isFinite }) {
            throw .invalidArgument("image value \(bad) is \(image[bad]); pixel values must be finite")
        }
        return image.withUnsafeBufferPointer { pixels in
            run(batch: batch, height: height, width: width) { b, grid, into in
                let plane = height * width
                for c in 0..<3 {
                    let source = pixels.baseAddress! + (b * 3 + c) * plane
                    for y in 0..<height {
                        (into + c * grid.rowLength + grid.interior(image: 0, row: y)).update(from: source + y * width, count: width)
                    }
                }
            }
        }
    }

    /// The nearest codebook row of every latent vector of `[batch, embed_dim, h, w]`: `batch x h x w` ids.
    public func tokens(latents: [Float], batch: Int, latentHeight: Int, latentWidth: Int) throws(VQGANError) -> [Int32] {
        guard batch >= 0, latentHeight > 0, latentWidth > 0 else {
            throw .invalidArgument("batch \(batch) and latent grid \(latentHeight)x\(latentWidth) must be positive")
        }
        let dim = configuration.embedDim
        let (perImage, overflow) = latentHeight.multipliedReportingOverflow(by: latentWidth)
        let (floats, overflow2) = perImage.multipliedReportingOverflow(by: dim)
        let (total, overflow3) = floats.multipliedReportingOverflow(by: batch)
        guard !overflow, !overflow2, !overflow3, total == latents.count else {
            throw .invalidArgument("expected \(batch) x \(dim) x \(latentHeight) x \(latentWidth) latent floats, found \(latents.count)")
        }
        guard batch > 0 else { return [] }
        var ids = [Int32](repeating: 0, count: batch * perImage)
        let scores = FloatBuffer(count: configuration.nEmbed * perImage)
        latents.withUnsafeBufferPointer { z in
            ids.withUnsafeMutableBufferPointer { out in
                for b in 0..<batch {
                    nearestCodes(
                        vectors: z.baseAddress! + b * floats, count: perImage, dim: dim, codebook: codebook.pointer,
                        codeNorms: codeNorms.pointer, codes: configuration.nEmbed, scores: scores.pointer,
                        into: out.baseAddress! + b * perImage)
                }
            }
        }
        return ids
    }

    /// Rejects what the network cannot take, before any product of the sizes is formed unchecked.
    private func checkImageSize(batch: Int, height: Int, width: Int, count: Int, channelsLast: Bool) throws(VQGANError) {
        let f = configuration.downsamplingFactor
        guard batch >= 0, height > 0, width > 0 else {
            throw .invalidArgument("batch \(batch) and image size \(height)x\(width) must be positive")
        }
        guard height % f == 0, width % f == 0 else {
            throw .invalidArgument("image size \(height)x\(width) is not a multiple of the encoder's downsampling factor \(f) in both sides")
        }
        guard height <= VQGANConfiguration.Limits.resolution, width <= VQGANConfiguration.Limits.resolution,
            let scratch = scratchFloats(height: height, width: width), scratch <= VQGANConfiguration.Limits.decodedFloats
        else {
            throw .invalidArgument("an image of \(height)x\(width) pixels is too large to encode")
        }
        let (pixels, overflow) = (height * width * 3).multipliedReportingOverflow(by: batch)
        guard !overflow, pixels == count else {
            let layout = channelsLast ? "\(batch) x \(height) x \(width) x 3" : "\(batch) x 3 x \(height) x \(width)"
            throw .invalidArgument("expected \(layout) pixel values, found \(count)")
        }
    }

    /// Floats of the largest activation of one image (every stage, the output convolution's
    /// GEMM included), or nil on overflow.
    private func scratchFloats(height: Int, width: Int) -> Int? {
        var grid = Grid(batch: 1, height: height, width: width)
        var largest = 0
        var channels = 3
        func note(_ c: Int) -> Bool {
            let (n, overflow) = c.multipliedReportingOverflow(by: grid.rowLength)
            largest = max(largest, n)
            return !overflow
        }
        guard note(3), note(configuration.ch) else { return nil }
        channels = configuration.ch
        for level in levels {
            for block in level.blocks {
                guard note(block.outChannels) else { return nil }
                channels = block.outChannels
            }
            if level.downsample { grid = grid.downsampled }
        }
        guard note(channels), note(configuration.zChannels) else { return nil }
        return largest
    }

    private func reserve(_ buffer: inout FloatBuffer, _ count: Int) -> UnsafeMutablePointer<Float> {
        if buffer.count < count { buffer = FloatBuffer(count: count) }
        return buffer.pointer
    }

    /// Runs the network on each image (`fill` writes image b's three input channels into the
    /// interior of a zeroed padded buffer) and gathers the latents `[batch, z_channels, h, w]`.
    private func run(
        batch: Int, height: Int, width: Int,
        fill: (_ image: Int, _ grid: Grid, _ into: UnsafeMutablePointer<Float>) -> Void
    ) -> [Float] {
        let size = latentSize(height: height, width: width)
        let zc = configuration.zChannels, perImage = zc * size.height * size.width
        var latents = [Float](repeating: 0, count: batch * perImage)
        guard batch > 0, let needed = scratchFloats(height: height, width: width) else { return latents }
        let threads = elementwiseThreads
        latents.withUnsafeMutableBufferPointer { out in
            for b in 0..<batch {
                var x = reserve(&bufferX, needed), t = reserve(&bufferT, needed)
                let h = reserve(&bufferH, needed)
                var grid = Grid(batch: 1, height: height, width: width)
                t.update(repeating: 0, count: 3 * grid.rowLength)
                fill(b, grid, t)
                convIn.apply(t, into: x, grid: grid, accumulate: false, threads: threads)
                var channels = convIn.outChannels
                for level in levels {
                    for block in level.blocks {
                        residual(block, x: x, t: t, h: h, grid: grid)
                        channels = block.outChannels
                    }
                    if level.downsample {
                        averagePool2x2(x, into: t, channels: channels, grid: grid, threads: threads)
                        grid = grid.downsampled
                        swap(&x, &t)
                    }
                }
                for block in middle { residual(block, x: x, t: t, h: h, grid: grid) }
                groupNormSwish(
                    x, into: t, channels: channels, grid: grid, groups: VQGANDecoder.groupNormGroups,
                    eps: VQGANDecoder.groupNormEpsilon, weight: normOut.weight.pointer, bias: normOut.bias.pointer,
                    threads: threads)
                // conv_out (1x1): one GEMM over the interior rows, then bias and the unpadded copy.
                let offset = grid.paddedWidth + 1, columns = grid.height * grid.paddedWidth
                BLAS.gemm(
                    m: zc, n: columns, k: channels, a: convOut.pointer, lda: channels, b: t + offset, ldb: grid.rowLength,
                    beta: 0, c: h + offset, ldc: grid.rowLength)
                let image = out.baseAddress! + b * perImage
                for c in 0..<zc {
                    let bias = convOutBias.pointer[c]
                    for y in 0..<grid.height {
                        let source = h + c * grid.rowLength + grid.interior(image: 0, row: y)
                        let destination = image + (c * grid.height + y) * grid.width
                        for xx in 0..<grid.width { destination[xx] = source[xx] + bias }
                    }
                }
            }
        }
        return latents
    }

    /// One residual block on the stream in `x` (result back in `x`); `t` and `h` are scratch.
    /// The decoder's float32 block, step for step.
    private func residual(
        _ block: VQGANDecoder.ResidualBlock, x: UnsafeMutablePointer<Float>, t: UnsafeMutablePointer<Float>,
        h: UnsafeMutablePointer<Float>, grid: Grid
    ) {
        let threads = elementwiseThreads
        let groups = VQGANDecoder.groupNormGroups, eps = VQGANDecoder.groupNormEpsilon
        groupNormSwish(
            x, into: t, channels: block.inChannels, grid: grid, groups: groups, eps: eps,
            weight: block.norm1.weight.pointer, bias: block.norm1.bias.pointer, threads: threads)
        block.conv1.apply(t, into: h, grid: grid, accumulate: false, threads: threads)
        groupNormSwish(
            h, into: t, channels: block.outChannels, grid: grid, groups: groups, eps: eps,
            weight: block.norm2.weight.pointer, bias: block.norm2.bias.pointer, threads: threads)
        if let shortcut = block.shortcutPlusIdentity {
            // x = (W + I) h with h = conv2(t): the shortcut takes the block's own branch.
            block.conv2.apply(t, into: h, grid: grid, accumulate: false, threads: threads)
            let offset = grid.paddedWidth + 1
            BLAS.gemm(
                m: block.outChannels, n: grid.height * grid.paddedWidth, k: block.outChannels,
                a: shortcut.pointer, lda: block.outChannels, b: h + offset, ldb: grid.rowLength,
                beta: 0, c: x + offset, ldc: grid.rowLength)
        } else {
            block.conv2.apply(t, into: x, grid: grid, accumulate: true, threads: threads)
        }
    }
}
