/// Every way CLIP's text side can fail: a bad vocabulary file, configuration or input.
public enum CLIPTextError: Error, CustomStringConvertible, Equatable {
    case vocabulary(file: String, reason: String)
    case invalidConfiguration(String)
    case invalidInput(String)

    public var description: String {
        switch self {
        case .vocabulary(let file, let reason): "\(file): not a CLIP BPE vocabulary: \(reason)"
        case .invalidConfiguration(let why): "invalid CLIP text configuration: \(why)"
        case .invalidInput(let why): "invalid CLIP text input: \(why)"
        }
    }
}
