import Foundation

/// A value guarded by a lock, for the few pieces of state that several threads share (the HTTP
/// server's connection registry, the scheduler's jobs, the API's metrics).
///
/// `@unchecked Sendable` is sound because every access to `value` goes through `withLock`, which
/// holds the `NSLock` for the whole access. (`Synchronization.Mutex` would need macOS 15, and
/// as a non-copyable type it cannot be captured by the closures that share these values.)
public final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()

    public init(_ value: Value) { self.value = value }

    public func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
