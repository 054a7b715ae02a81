import Dispatch
import Glibc
import LockedValue

/// Delivers POSIX signals (by default SIGTERM and SIGINT) to a closure, through Dispatch signal
/// sources, so an executable can start a graceful shutdown instead of dying mid-request.
///
/// ```swift
/// let watcher = SignalWatcher { signal in
///     Task { await server.shutdown(gracePeriod: .seconds(20)); exit(0) }
/// }
/// ```
/// Once a signal has been watched, its default action (terminate) stays disabled for the life of
/// the process, also after `cancel()`: on Linux, libdispatch installs its own process-wide handler
/// the first time a signal gets a source and never reinstalls it, so restoring `SIG_DFL` would
/// break every later watcher of that signal.
public final class SignalWatcher: Sendable {
    /// Signals this process already prepared; see the type's comment for why this is once per process.
    private static let prepared = Locked<Set<Int32>>([])

    /// Dispatch sources are not Sendable; `Locked` serialises every access to them.
    private let sources: Locked<[DispatchSourceSignal]>

    /// Starts watching `signals`; `handler` runs on a private serial queue, once per delivery
    /// (deliveries close together may be coalesced).
    public convenience init(signals: [Int32] = [SIGTERM, SIGINT], handler: @escaping @Sendable (Int32) -> Void) {
        self.init(signals: signals, registered: nil, handler: handler)
    }

    /// `registered` runs once per signal when its source is live: a signal raised after that is seen.
    init(signals: [Int32], registered: (@Sendable (Int32) -> Void)?, handler: @escaping @Sendable (Int32) -> Void) {
        let queue = DispatchQueue(label: "enat-serve.signals")
        sources = Locked(
            signals.map { number in
                Self.prepared.withLock { prepared in
                    // Until libdispatch has registered the source and installed its handler, the
                    // default disposition would kill the process; ignoring bridges that window.
                    // Done once only: later it would overwrite libdispatch's handler.
                    if prepared.insert(number).inserted { signal(number, SIG_IGN) }
                }
                let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
                source.setEventHandler { handler(number) }
                if let registered { source.setRegistrationHandler { registered(number) } }
                source.activate()
                return source
            })
    }

    /// Stops watching. The signals stay ignored (see the type's comment).
    public func cancel() {
        sources.withLock { sources in
            for source in sources { source.cancel() }
            sources = []
        }
    }

    /// The watched signals as an async sequence, for `for await signal in SignalWatcher.stream()`.
    public static func stream(signals: [Int32] = [SIGTERM, SIGINT]) -> AsyncStream<Int32> {
        AsyncStream { continuation in
            let watcher = SignalWatcher(signals: signals) { continuation.yield($0) }
            continuation.onTermination = { _ in watcher.cancel() }
        }
    }
}
