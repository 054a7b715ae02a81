import Foundation

/// The hyper-parameters of a MaskGIT-lineage VQGAN tokenizer, under the official names
/// (`ch`, `ch_mult`, `num_res_blocks`, `z_channels`, `embed_dim`, `n_embed`, `out_ch`, `resolution`).
public struct VQGANConfiguration: Codable, Sendable, Equatable {
    /// Base channel count; level `i` has `ch * chMult[i]` channels.
    public var ch: Int
    public var chMult: [Int]
    /// Residual blocks per level of the decoder.
    public var numResBlocks: Int
    /// Channels of the latent fed to `conv_in`.
    public var zChannels: Int
    /// Width of a codebook vector. This decoder has no `post_quant_conv`, so it must equal `zChannels`.
    public var embedDim: Int
    /// Codebook size: valid tokens are `0..<nEmbed`.
    public var nEmbed: Int
    public var outCh: Int
    /// Nominal image side in pixels (the latent side is `resolution / downsamplingFactor`).
    public var resolution: Int

    enum CodingKeys: String, CodingKey {
        case ch
        case chMult = "ch_mult"
        case numResBlocks = "num_res_blocks"
        case zChannels = "z_channels"
        case embedDim = "embed_dim"
        case nEmbed = "n_embed"
        case outCh = "out_ch"
        case resolution
    }

    public init(
        ch: Int, chMult: [Int], numResBlocks: Int, zChannels: Int, embedDim: Int? = nil,
        nEmbed: Int, outCh: Int = 3, resolution: Int
    ) {
        self.ch = ch
        self.chMult = chMult
        self.numResBlocks = numResBlocks
        self.zChannels = zChannels
        self.embedDim = embedDim ?? zChannels
        self.nEmbed = nEmbed
        self.outCh = outCh
        self.resolution = resolution
    }

    /// `embed_dim` defaults to `z_channels`, `out_ch` to 3, `resolution` to 256.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        ch = try c.decode(Int.self, forKey: .ch)
        chMult = try c.decode([Int].self, forKey: .chMult)
        numResBlocks = try c.decode(Int.self, forKey: .numResBlocks)
        zChannels = try c.decode(Int.self, forKey: .zChannels)
        embedDim = try c.decodeIfPresent(Int.self, forKey: .embedDim) ?? zChannels
        nEmbed = try c.decode(Int.self, forKey: .nEmbed)
        outCh = try c.decodeIfPresent(Int.self, forKey: .outCh) ?? 3
        resolution = try c.decodeIfPresent(Int.self, forKey: .resolution) ?? 256
    }

    /// Decodes the JSON object of a config (for example a golden file's `config` metadata).
    public init(json: String) throws {
        self = try JSONDecoder().decode(VQGANConfiguration.self, from: Data(json.utf8))
    }

    /// The released MaskGIT / ENAT tokenizer: f16, 1024 codes of 256 dimensions, 256 px.
    public static let released = VQGANConfiguration(
        ch: 128, chMult: [1, 1, 2, 2, 4], numResBlocks: 2, zChannels: 256, embedDim: 256,
        nEmbed: 1024, outCh: 3, resolution: 256)

    /// Pixels per token along each side: `2^(levels - 1)`.
    public var downsamplingFactor: Int { 1 << max(chMult.count - 1, 0) }

    /// Tokens along each side of the latent grid at `resolution`.
    public var latentSize: Int { resolution / downsamplingFactor }

    /// Limits far below overflow, checked before any product of these numbers is formed, so a
    /// hostile `config.json` gets an error and never a trapped multiplication or a huge allocation.
    /// The released tokenizer uses 128 x 4 = 512 channels, 256 dimensions, 1024 codes, 256 px.
    public enum Limits {
        public static let channels = 16384
        public static let levels = 12
        public static let residualBlocks = 64
        public static let codebookSize = 1 << 24
        public static let outputChannels = 64
        public static let resolution = 1 << 16
        /// Floats one `decode` call may produce (8 GiB).
        public static let decodedFloats = 1 << 31
    }

    /// The first reason this configuration cannot be decoded, or nil.
    public var problem: String? {
        if ch <= 0 || ch > Limits.channels { return "ch must be 1...\(Limits.channels) (found \(ch))" }
        if chMult.isEmpty { return "ch_mult must not be empty" }
        if chMult.count > Limits.levels { return "ch_mult has \(chMult.count) levels; at most \(Limits.levels) are supported" }
        for m in chMult {
            // ch and m are bounded before the product: ch * m cannot overflow.
            guard m > 0, m <= Limits.channels, ch * m <= Limits.channels else {
                return "ch_mult entry \(m) must be positive and give at most \(Limits.channels) channels with ch \(ch)"
            }
            if (ch * m) % VQGANDecoder.groupNormGroups != 0 {
                return "channel count \(ch * m) is not a multiple of the \(VQGANDecoder.groupNormGroups) GroupNorm groups"
            }
        }
        if numResBlocks < 0 || numResBlocks > Limits.residualBlocks {
            return "num_res_blocks must be 0...\(Limits.residualBlocks) (found \(numResBlocks))"
        }
        if zChannels <= 0 || zChannels > Limits.channels { return "z_channels must be 1...\(Limits.channels) (found \(zChannels))" }
        if embedDim != zChannels {
            return "embed_dim \(embedDim) differs from z_channels \(zChannels): this decoder has no post_quant_conv"
        }
        if nEmbed <= 0 || nEmbed > Limits.codebookSize { return "n_embed must be 1...\(Limits.codebookSize) (found \(nEmbed))" }
        if outCh <= 0 || outCh > Limits.outputChannels { return "out_ch must be 1...\(Limits.outputChannels) (found \(outCh))" }
        if resolution <= 0 || resolution > Limits.resolution { return "resolution must be 1...\(Limits.resolution) (found \(resolution))" }
        return nil
    }

    /// Floats of `batch` decoded images of a `latentHeight` x `latentWidth` token grid
    /// (`batch * out_ch * H * W`), or nil when that count overflows or exceeds `limit`.
    public func outputCount(batch: Int, latentHeight: Int, latentWidth: Int, limit: Int = Int.max) -> Int? {
        guard batch >= 0, latentHeight > 0, latentWidth > 0, problem == nil else { return nil }
        // Batch last: a batch of 0 must not hide an overflowing image size.
        var count = 1
        for factor in [outCh, latentHeight, downsamplingFactor, latentWidth, downsamplingFactor, batch] {
            let (product, overflow) = count.multipliedReportingOverflow(by: factor)
            guard !overflow, product <= limit else { return nil }
            count = product
        }
        return count
    }
}
