import Foundation

/// A value guarded by a lock, for the pieces of state that several threads share.
///
/// `@unchecked Sendable` is sound because every access to `value` goes through `withLock`,
/// which holds the `NSLock` for the whole access. (`Synchronization.Mutex` would need macOS 15;
/// the package still supports macOS 14.)
final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()

    init(_ value: Value) { self.value = value }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
