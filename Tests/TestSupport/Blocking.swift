import Dispatch

/// Runs async work from a synchronous test and waits for it (on the calling thread, never on
/// the cooperative pool, which the work itself needs).
public func blocking(_ work: @escaping @Sendable () async -> Void) {
    let done = DispatchSemaphore(value: 0)
    Task {
        await work()
        done.signal()
    }
    done.wait()
}
