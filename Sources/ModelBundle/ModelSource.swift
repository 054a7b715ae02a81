import Foundation

/// Where a model's files are: a bundle folder, or the official release's checkpoints.
enum ModelSource: Equatable {
    case bundle(folder: URL)
    case official(transformer: URL, vqgan: URL)

    /// Official file names, as the ENAT release publishes them.
    static let officialTransformerNames = ["nnet_ema.pth", "nnet_ema_512.pth"]
    static let officialVQGANName = "vqgan_jax_strongaug.ckpt"

    /// Accepts a bundle folder or its `config.json`; a folder holding `nnet_ema.pth` or
    /// `nnet_ema_512.pth` with `vqgan_jax_strongaug.ckpt`; or the transformer checkpoint
    /// itself (any `.pth`/`.pt`/`.ckpt` name) with the VQGAN file beside it.
    static func locate(_ path: String) throws(ModelBundleError) -> ModelSource {
        let manager = FileManager.default
        var isFolder: ObjCBool = false
        guard !path.isEmpty, manager.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw .missingFile(path: path, what: "model (a bundle folder or the official checkpoint files)")
        }
        let url = URL(fileURLWithPath: path).standardizedFileURL
        if isFolder.boolValue {
            if manager.fileExists(atPath: url.appendingPathComponent("config.json").path) { return .bundle(folder: url) }
            let present = officialTransformerNames.filter {
                manager.fileExists(atPath: url.appendingPathComponent($0).path)
            }
            guard !present.isEmpty else {
                throw .notAModel(
                    path: path,
                    reason: "the folder has no config.json (bundle) and no \(officialTransformerNames.joined(separator: " or ")) (official files)")
            }
            guard present.count == 1 else {
                throw .notAModel(
                    path: path, reason: "the folder holds both \(present.joined(separator: " and ")); give the path of the one to load")
            }
            return try official(transformer: url.appendingPathComponent(present[0]))
        }
        if url.lastPathComponent == "config.json" { return .bundle(folder: url.deletingLastPathComponent()) }
        guard ["pth", "pt", "ckpt", "bin"].contains(url.pathExtension) else {
            throw .notAModel(path: path, reason: "expected a bundle folder, its config.json, or a PyTorch checkpoint (.pth)")
        }
        return try official(transformer: url)
    }

    private static func official(transformer: URL) throws(ModelBundleError) -> ModelSource {
        let vqgan = transformer.deletingLastPathComponent().appendingPathComponent(officialVQGANName)
        guard FileManager.default.fileExists(atPath: vqgan.path) else {
            throw .missingFile(path: vqgan.path, what: "VQGAN checkpoint beside \(transformer.lastPathComponent)")
        }
        return .official(transformer: transformer, vqgan: vqgan)
    }
}
