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

    /// The first reason this configuration cannot be decoded, or nil.
    public var problem: String? {
        if ch <= 0 { return "ch must be positive (found \(ch))" }
        if chMult.isEmpty || chMult.contains(where: { $0 <= 0 }) { return "ch_mult must be non-empty and positive (found \(chMult))" }
        if chMult.count > 12 { return "ch_mult has \(chMult.count) levels; at most 12 are supported" }
        if numResBlocks < 0 { return "num_res_blocks must not be negative (found \(numResBlocks))" }
        for m in chMult where (ch * m) % VQGANDecoder.groupNormGroups != 0 {
            return "channel count \(ch * m) is not a multiple of the \(VQGANDecoder.groupNormGroups) GroupNorm groups"
        }
        if zChannels <= 0 { return "z_channels must be positive (found \(zChannels))" }
        if embedDim != zChannels {
            return "embed_dim \(embedDim) differs from z_channels \(zChannels): this decoder has no post_quant_conv"
        }
        if nEmbed <= 0 { return "n_embed must be positive (found \(nEmbed))" }
        if outCh <= 0 { return "out_ch must be positive (found \(outCh))" }
        return nil
    }
}
