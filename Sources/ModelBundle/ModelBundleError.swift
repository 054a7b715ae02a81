import ENAT
import Imaging
import ModelFiles
import VQGAN

/// Every way loading, converting or running a model can fail, each naming the file or model
/// and the problem, so that a server log line or a CLI error is enough to fix it.
public enum ModelBundleError: Error, CustomStringConvertible, Equatable {
    /// A path that should exist does not (`what` says which part of the model it is).
    case missingFile(path: String, what: String)
    /// A path that is neither a bundle folder nor a set of official checkpoint files.
    case notAModel(path: String, reason: String)
    /// A file exists but cannot be read or written.
    case cannotAccess(path: String, reason: String)
    /// `config.json` is not valid JSON, lacks a key, or holds values that do not fit together.
    case invalidConfiguration(file: String, reason: String)
    /// A weight file is malformed, lacks a tensor or has one of the wrong shape.
    case weights(ModelFileError)
    /// The model kind cannot be served by this build or for this request.
    case unsupported(model: String, reason: String)
    /// A caption sent to a class-conditional model.
    case captionToClassModel(model: String)
    /// A class label sent to a caption model.
    case classToCaptionModel(model: String)
    /// Sampler settings, a class label or a caption the engine rejected
    /// (`.invalidSetting` of `SamplerLimits`), or state it could not run.
    case engine(model: String, ENATError)
    /// Token maps the decoder rejected.
    case decoder(model: String, VQGANError)
    /// Token maps of the wrong length or outside the codebook.
    case invalidTokens(model: String, reason: String)
    /// An image edit the model cannot carry out as asked (its image, mask or strength).
    case invalidEdit(model: String, reason: String)
    case png(PNGError)

    public var description: String {
        switch self {
        case .missingFile(let path, let what): "\(path): missing \(what)"
        case .notAModel(let path, let reason): "\(path): not a model: \(reason)"
        case .cannotAccess(let path, let reason): "\(path): \(reason)"
        case .invalidConfiguration(let file, let reason): "\(file): invalid configuration: \(reason)"
        case .weights(let error): error.description
        case .unsupported(let model, let reason): "model \(model): \(reason)"
        case .captionToClassModel(let model):
            "model \(model) is class-conditional: send a class name or class_label, not a caption"
        case .classToCaptionModel(let model): "model \(model) is caption-conditioned: send a caption (prompt)"
        case .engine(let model, let error): "model \(model): \(error)"
        case .decoder(let model, let error): "model \(model): VQGAN decode: \(error)"
        case .invalidTokens(let model, let reason): "model \(model): \(reason)"
        case .invalidEdit(let model, let reason): "model \(model): edit: \(reason)"
        case .png(let error): error.description
        }
    }
}
