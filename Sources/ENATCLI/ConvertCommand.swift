import ArgumentParser
import ENAT
import Foundation
import ModelBundle
import VQGAN

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Write a model bundle (config.json + float32 safetensors) from the official checkpoint files.",
        discussion: """
            Reads the released PyTorch files (nnet_ema.pth or nnet_ema_512.pth, and vqgan_jax_strongaug.ckpt)
            without Python, keeps only the tensors the model uses, and writes them with the ENAT-L
            configuration, the official sampler defaults and ImageNet's 1000 class names. Safetensors
            inputs work too, including golden files (their weights.* tensors and metadata config).
            The bundle is loaded once after writing to check it.
            """)

    @Option(help: "Transformer weights: nnet_ema.pth, nnet_ema_512.pth, or a safetensors file.")
    var transformer: String

    @Option(help: "VQGAN weights: vqgan_jax_strongaug.ckpt or a safetensors file.")
    var vqgan: String

    @Option(help: "Image side the bundle must make (256 or 512); checked against the weights.")
    var resolution: Int?

    @Option(name: [.short, .customLong("output")], help: "Bundle folder to write (created if needed).")
    var output: String

    @Option(help: "Model id in the bundle (default: enat-l-256 / enat-l-512 for the official files).")
    var id: String?

    @Option(help: "Description in the bundle.")
    var description: String?

    @Option(
        help:
            "JSON file with the transformer architecture (latent_size, hidden_size, num_heads, enc_depth, dec_depth, ...), for weights that are neither ENAT-L nor carry one."
    )
    var transformerConfig: String?

    @Option(
        help:
            "JSON file with the VQGAN architecture (ch, ch_mult, num_res_blocks, z_channels, n_embed, ...); default: the file's own, else the released VQGAN."
    )
    var vqganConfig: String?

    @Option(help: "Text file with one class name per line, in label order (default: ImageNet's for 1000 classes).")
    var classNames: String?

    @Flag(help: "Skip loading the written bundle to check it.")
    var noVerify = false

    func validate() throws {
        if let resolution, resolution != 256, resolution != 512 {
            throw ValidationError("--resolution must be 256 or 512")
        }
    }

    func run() throws {
        var options = BundleConverter.Options(id: id, description: description, resolution: resolution)
        if let transformerConfig { options.transformer = try decodeJSON(ENATConfiguration.self, transformerConfig) }
        if let vqganConfig { options.vqgan = try decodeJSON(VQGANConfiguration.self, vqganConfig) }
        if let classNames {
            guard let text = FileManager.default.contents(atPath: classNames).map({ String(decoding: $0, as: UTF8.self) }) else {
                throw ValidationError("cannot read \(classNames)")
            }
            options.classNames = text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }
        }
        let start = Date()
        let configuration = try BundleConverter.convert(
            transformerPath: transformer, vqganPath: vqgan, to: output, options: options)
        print(
            String(
                format: "wrote %@ (%@, %d px, %d classes) in %.1f s", output, configuration.id, configuration.resolution,
                configuration.transformer.numClasses, Date().timeIntervalSince(start)))
        if !noVerify {
            let model = try LoadedModel.load(path: output)
            print("checked: \(model.id) loads (\(model.tokenCount) tokens per image, \(model.classNames.count) class names)")
        }
    }

    private func decodeJSON<T: Decodable>(_ type: T.Type, _ path: String) throws -> T {
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw ValidationError("\(path): not a valid configuration: \(error)")
        }
    }
}
