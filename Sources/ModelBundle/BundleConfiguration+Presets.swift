import ENAT
import VQGAN

extension BundleConfiguration {
    /// The released ENAT-L ImageNet model at 256 or 512 px with the released VQGAN, ImageNet
    /// class names and the official sampler defaults, as the official files need.
    public static func official(resolution: Int) -> BundleConfiguration {
        let is512 = resolution == 512
        var vqgan = VQGANConfiguration.released
        vqgan.resolution = is512 ? 512 : 256
        return BundleConfiguration(
            id: is512 ? "enat-l-512" : "enat-l-256", kind: .classConditional,
            description: "ENAT-L, ImageNet \(vqgan.resolution)x\(vqgan.resolution), class-conditional (official release)",
            resolution: vqgan.resolution, transformer: is512 ? .large512 : .large256, vqgan: vqgan,
            sampler: is512 ? .imageNet512 : .imageNet256, classNames: ImageNetClassNames.all)
    }

    /// Tests and quick runs: ENAT's `enat_tiny` sizes (the golden files' transformer: latent 16,
    /// D 64, 4 heads, 2 + 1 blocks, 1024 codes, 1000 ImageNet classes) and a small VQGAN
    /// (`vqgan_tiny`'s shape: ch 32, ch_mult [1,1,2,2,4], z 32), so 16 x 16 tokens make 256 px.
    public static let testTiny = BundleConfiguration(
        id: "test-tiny", kind: .classConditional, description: "enat_tiny shapes with a small VQGAN (tests)",
        resolution: 256,
        transformer: ENATConfiguration(latentSize: 16, hiddenSize: 64, numHeads: 4, encoderDepth: 2, decoderDepth: 1),
        vqgan: VQGANConfiguration(
            ch: 32, chMult: [1, 1, 2, 2, 4], numResBlocks: 2, zChannels: 32, embedDim: 32, nEmbed: 1024, outCh: 3,
            resolution: 256),
        sampler: .imageNet256, classNames: ImageNetClassNames.all)
}
