import LockedValue

/// Whether the client of one request is still there, and who wants to know when it leaves.
/// Shared between the connection (which reports) and the handler (which asks).
final class ClientPresence: Sendable {
    private struct State {
        var connected = true
        /// Set once the response is complete: later disconnects are not this request's business.
        var finished = false
        var callbacks: [@Sendable () -> Void] = []
    }

    private let state = Locked(State())

    var isConnected: Bool { state.withLock { $0.connected } }

    /// Runs `action` once when the client disconnects; right away if it already has.
    func onDisconnect(_ action: @escaping @Sendable () -> Void) {
        let runNow = state.withLock { state -> Bool in
            if !state.connected { return true }
            if !state.finished { state.callbacks.append(action) }
            return false
        }
        if runNow { action() }
    }

    func markDisconnected() {
        let callbacks = state.withLock { state -> [@Sendable () -> Void] in
            guard state.connected, !state.finished else { return [] }
            state.connected = false
            defer { state.callbacks = [] }
            return state.callbacks
        }
        // Called outside the lock: a callback may well ask `isConnected`.
        for callback in callbacks { callback() }
    }

    func finish() {
        state.withLock { state in
            state.finished = true
            state.callbacks = []
        }
    }
}
