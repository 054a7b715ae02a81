import Imaging
import VQGAN

/// The mosaic preview's colour for each VQ code: the mean colour that the model's own VQGAN
/// decodes it to, so a mosaic frame already has the palette of the final image.
enum CodeColors {
    /// Decodes every code once, laid out as whole latent grids (`latentSize`² codes per grid,
    /// the last grid padded with code 0), and averages each code's cell without its outer
    /// quarter, where the neighbours' colours bleed in through the convolutions.
    ///
    /// Cost: one decode of `ceil(codebookSize / latentSize²)` images: 4 images for the released
    /// 1024-code VQGAN at 256 px (about 2 s with AVX-512), 1 image at 512 px.
    static func meanDecodedColors(decoder: VQGANDecoder, latentSize: Int, model: String) throws(ModelBundleError) -> CodeColorTable {
        let codes = decoder.configuration.nEmbed
        let perGrid = latentSize * latentSize
        let grids = (codes + perGrid - 1) / perGrid
        let tokens = (0..<(grids * perGrid)).map { Int32($0 < codes ? $0 : 0) }
        let pixels: [Float]
        do {
            pixels = try decoder.decode(tokens: tokens, batch: grids, latentHeight: latentSize, latentWidth: latentSize)
        } catch {
            throw .decoder(model: model, error)
        }
        let cell = decoder.configuration.downsamplingFactor
        let side = latentSize * cell
        let plane = side * side
        let margin = cell >= 4 ? cell / 4 : 0
        var rgb = [Float](repeating: 0, count: 3 * codes)
        for code in 0..<codes {
            let grid = code / perGrid, position = code % perGrid
            let top = (position / latentSize) * cell, left = (position % latentSize) * cell
            for channel in 0..<3 {
                let base = (grid * 3 + channel) * plane
                var sum = 0.0, count = 0
                for y in (top + margin)..<(top + cell - margin) {
                    for x in (left + margin)..<(left + cell - margin) {
                        let value = pixels[base + y * side + x]
                        // Clamped like final pixels, so one wild value cannot dominate a cell.
                        sum += Double(value.isFinite ? min(max(value, 0), 1) : 0)
                        count += 1
                    }
                }
                rgb[3 * code + channel] = Float(sum / Double(max(count, 1)))
            }
        }
        return CodeColorTable(rgb: rgb)
    }
}
