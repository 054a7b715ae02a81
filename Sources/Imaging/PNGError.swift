import CPNGShim

/// A failed PNG encode, carrying libpng's (or the shim's) message.
public struct PNGError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// A size, option or buffer the encoder cannot accept.
        case invalidArgument
        /// libpng or zlib reported an error.
        case libpng
        /// Memory allocation failed.
        case outOfMemory
        /// The stream writer was used out of order (after failing or finishing, too many or
        /// too few rows).
        case invalidState
    }

    public let kind: Kind
    public let message: String

    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "PNG encoding failed: \(message)" }

    /// Maps a shim status; nil for success.
    init?(status: cpng_status, message: String) {
        switch status {
        case CPNG_OK: return nil
        case CPNG_ERROR_ARGUMENT: self.init(kind: .invalidArgument, message: message)
        case CPNG_ERROR_MEMORY: self.init(kind: .outOfMemory, message: message)
        case CPNG_ERROR_STATE: self.init(kind: .invalidState, message: message)
        default: self.init(kind: .libpng, message: message)
        }
    }
}

extension String {
    /// Decodes a NUL-terminated message buffer filled in by the shim.
    init(shimMessage buffer: [CChar]) {
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        self.init(decoding: bytes, as: UTF8.self)
    }
}
