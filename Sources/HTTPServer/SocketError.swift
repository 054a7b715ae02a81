import Glibc

/// A failed system call, with the `errno` it set, captured at the call site.
public struct SocketError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The system call that failed, e.g. `"bind"`.
    public let operation: String
    /// The `errno` value the call left behind.
    public let code: Int32

    public init(_ operation: String, code: Int32) {
        self.operation = operation
        self.code = code
    }

    /// Reads `errno` right away: anything else run in between could overwrite it.
    static func current(_ operation: String) -> SocketError {
        SocketError(operation, code: errno)
    }

    public var description: String {
        "\(operation) failed: \(String(cString: strerror(code))) (errno \(code))"
    }
}
