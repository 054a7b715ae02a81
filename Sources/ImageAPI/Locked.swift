import Foundation

/// A value behind a lock (the HTTPServer and Scheduler modules keep their own internal copies).
final class Locked<Value>: @unchecked Sendable {
    // @unchecked: every access to `value` goes through `withLock`, which holds the lock.
    private var value: Value
    private let lock = NSLock()

    init(_ value: Value) { self.value = value }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
