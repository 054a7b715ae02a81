/// Problems with a decode request (the weights themselves report `ModelFileError`).
public enum VQGANError: Error, CustomStringConvertible, Equatable {
    case tokenOutOfRange(index: Int, value: Int32, codebookSize: Int)
    case tokenCountMismatch(expected: Int, found: Int)
    case outputCountMismatch(expected: Int, found: Int)
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .tokenOutOfRange(let index, let value, let size):
            "token \(index) is \(value), outside the codebook 0..<\(size)"
        case .tokenCountMismatch(let expected, let found):
            "expected \(expected) tokens (batch x latent height x latent width), found \(found)"
        case .outputCountMismatch(let expected, let found):
            "the output buffer holds \(found) floats, the images need \(expected)"
        case .invalidArgument(let reason): reason
        }
    }
}
