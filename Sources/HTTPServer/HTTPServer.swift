import Dispatch
import DurationSeconds
import Glibc
import LockedValue

/// Handles one request. Handlers run as Swift tasks; they may take as long as they need, and
/// should watch `RequestContext.isClientConnected` / `onClientDisconnect` to stop early.
public typealias HTTPHandler = @Sendable (HTTPRequest, RequestContext) async -> HTTPResponse

/// Told of every request the server refuses before a handler sees it (malformed, too large,
/// too slow, server busy), with the peer's address: for metrics and logs, since no handler runs.
/// Called on the connection's queue; keep it quick.
public typealias HTTPRejectionObserver = @Sendable (HTTPRequestError, _ remoteAddress: String) -> Void

/// An HTTP/1.1 server on POSIX sockets.
///
/// ```swift
/// let server = HTTPServer(configuration: .init(host: "127.0.0.1", port: 0)) { request, context in
///     HTTPResponse(status: .ok, text: "hello \(context.requestID)")
/// }
/// let port = try server.start()
/// // ...
/// await server.shutdown(deadline: .now + .seconds(10))
/// ```
public final class HTTPServer: Sendable {
    public let configuration: HTTPServerConfiguration
    private let core: ServerCore

    public init(
        configuration: HTTPServerConfiguration = .init(), onRejection: HTTPRejectionObserver? = nil,
        handler: @escaping HTTPHandler
    ) {
        self.configuration = configuration
        self.core = ServerCore(configuration: configuration, onRejection: onRejection, handler: handler)
    }

    /// Binds, listens and starts accepting. Returns the bound port (the kernel's pick when the
    /// configured port is 0). Also makes the process ignore SIGPIPE: a vanished peer must show
    /// up as an error on the connection, not kill the process.
    @discardableResult
    public func start() throws(SocketError) -> Int {
        try core.start()
    }

    /// The bound port once started.
    public var port: Int? { core.port }

    /// True once `shutdown` began. Readiness endpoints should fail when it is set.
    public var isDraining: Bool { core.isDraining }

    /// Connections currently open (including ones being refused with 503 or 429).
    public var connectionCount: Int { core.connectionCount }

    /// Connections idle between keep-alive requests (for tests and diagnostics).
    var idleConnectionCount: Int { core.idleConnectionCount }

    /// Stops accepting at once (the listening socket is closed), closes idle keep-alive
    /// connections, and lets in-flight requests and streams run until `deadline`; their
    /// responses carry `Connection: close`. At the deadline the tasks still running are
    /// cancelled: a stream sees `Task.isCancelled`, can write a final event and return, and
    /// then gets its terminating chunk. Whatever is still open after
    /// `configuration.shutdownCancellationGrace` more seconds is closed. Returns when every
    /// connection is closed.
    public func shutdown(deadline: ContinuousClock.Instant) async {
        await core.shutdown(deadline: deadline)
    }

    /// Diagnostics for tests: one line per open connection.
    func debugConnections() -> [String] { core.debugConnections() }

    /// `shutdown(deadline:)` with a deadline `gracePeriod` from now.
    public func shutdown(gracePeriod: Duration) async {
        await core.shutdown(deadline: .now + gracePeriod)
    }
}

/// The server's shared state: the listener and the registry of open connections.
final class ServerCore: Sendable {
    private struct Entry {
        var connection: Connection
        /// What the per-address limit counts it by (`ClientAddressKey`).
        var addressKey: String
        var counted: Bool
    }

    private struct State {
        var listenFD: Int32 = -1
        var port: Int?
        var acceptSource: DispatchSourceRead?
        var acceptSuspended = false
        var draining = false
        var nextID = 0
        /// Open connections; `counted` is false for those only being refused (503, 429) and for
        /// idle ones whose slot was handed to a newcomer.
        var connections: [Int: Entry] = [:]
        var countedConnections = 0
        /// Counted connections per `ClientAddressKey`.
        var perAddress: [String: Int] = [:]
        /// Counted connections idle between keep-alive requests, with when they became idle.
        var idleSince: [Int: UInt64] = [:]
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiterID = 0
    }

    let configuration: HTTPServerConfiguration
    let handler: HTTPHandler
    let onRejection: HTTPRejectionObserver?
    private let state = Locked(State())
    private let acceptQueue = DispatchQueue(label: "enat-serve.http.accept")

    init(configuration: HTTPServerConfiguration, onRejection: HTTPRejectionObserver?, handler: @escaping HTTPHandler) {
        self.configuration = configuration
        self.onRejection = onRejection
        self.handler = handler
    }

    var port: Int? { state.withLock { $0.port } }
    var isDraining: Bool { state.withLock { $0.draining } }
    var connectionCount: Int { state.withLock { $0.connections.count } }
    /// Connections idle between keep-alive requests, the first to give up their slots.
    var idleConnectionCount: Int { state.withLock { $0.idleSince.count } }

    /// The factor for head, body and idle timeouts at the current occupancy.
    var timeoutScale: Double {
        let open = state.withLock { $0.countedConnections }
        return configuration.deadlineTightening.scale(open: open, capacity: configuration.maxConnections)
    }

    func start() throws(SocketError) -> Int {
        signal(SIGPIPE, SIG_IGN)
        let alreadyStarted = state.withLock { $0.listenFD >= 0 || $0.draining }
        if alreadyStarted { throw SocketError("start", code: EALREADY) }
        let (fd, port) = try Socket.listen(host: configuration.host, port: configuration.port, backlog: configuration.backlog)
        let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: acceptQueue)
        source.setEventHandler { [self] in acceptPending(listener: fd) }
        source.setCancelHandler { Socket.close(fd) }
        state.withLock { state in
            state.listenFD = fd
            state.port = port
            state.acceptSource = source
        }
        source.activate()
        return port
    }

    private func acceptPending(listener: Int32) {
        // Bounded per event so one busy listener cannot starve the accept queue's other work.
        for _ in 0..<64 {
            switch Socket.accept(listener, sendBufferBytes: configuration.socketSendBufferBytes) {
            case .wouldBlock:
                return
            case .failed(let error):
                if [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(error.code) {
                    // Out of descriptors: the pending connection stays readable and would spin this
                    // source, so pause accepting briefly and let closing connections free some.
                    pauseAccepting()
                    return
                }
                continue  // e.g. ECONNABORTED: that one client is gone, the listener is fine
            case .accepted(let fd, let remoteHost, let remoteAddress):
                register(fd: fd, remoteHost: remoteHost, remoteAddress: remoteAddress)
            }
        }
    }

    private func pauseAccepting() {
        state.withLock { state in
            guard let source = state.acceptSource, !state.acceptSuspended else { return }
            source.suspend()
            state.acceptSuspended = true
        }
        acceptQueue.asyncAfter(deadline: .now() + 0.1) { [self] in
            state.withLock { state in
                guard let source = state.acceptSource, state.acceptSuspended else { return }
                source.resume()
                state.acceptSuspended = false
            }
        }
    }

    private func register(fd: Int32, remoteHost: String, remoteAddress: String) {
        let addressKey = ClientAddressKey.of(host: remoteHost)
        let result = state.withLock { state -> (Connection, HTTPRequestError?, Connection?)? in
            if state.draining { return nil }
            state.nextID += 1
            let connection = Connection(id: state.nextID, fd: fd, remoteAddress: remoteAddress, core: self)
            var refusal: HTTPRequestError?
            var evicted: Connection?
            if state.perAddress[addressKey, default: 0] >= configuration.maxConnectionsPerAddress {
                refusal = .tooManyConnectionsFromAddress
            } else if state.countedConnections >= configuration.maxConnections {
                // Full: the connection idle longest between requests gives up its slot, if any.
                if let (victimID, _) = state.idleSince.min(by: { $0.value < $1.value }) {
                    evicted = uncount(victimID, in: &state)
                } else {
                    refusal = .serverBusy
                }
            }
            state.connections[connection.id] = Entry(connection: connection, addressKey: addressKey, counted: refusal == nil)
            if refusal == nil {
                state.countedConnections += 1
                state.perAddress[addressKey, default: 0] += 1
            }
            return (connection, refusal, evicted)
        }
        guard let (connection, refusal, evicted) = result else {
            Socket.close(fd)
            return
        }
        evicted?.evict()
        connection.start(refusing: refusal)
    }

    /// Takes a connection out of the limits' counts (it keeps running until it closes).
    private func uncount(_ id: Int, in state: inout State) -> Connection? {
        state.idleSince[id] = nil
        guard let entry = state.connections[id], entry.counted else { return nil }
        state.connections[id]?.counted = false
        state.countedConnections -= 1
        let remaining = state.perAddress[entry.addressKey, default: 1] - 1
        state.perAddress[entry.addressKey] = remaining > 0 ? remaining : nil
        return entry.connection
    }

    /// A connection reports that it waits idle between keep-alive requests (or no longer does).
    func connection(_ connection: Connection, isIdle idle: Bool) {
        state.withLock { state in
            if idle, state.connections[connection.id]?.counted == true {
                state.idleSince[connection.id] = DispatchTime.now().uptimeNanoseconds
            } else {
                state.idleSince[connection.id] = nil
            }
        }
    }

    /// Called by a connection once, when it closes.
    func connectionClosed(_ connection: Connection) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            _ = uncount(connection.id, in: &state)
            state.connections[connection.id] = nil
            guard state.connections.isEmpty else { return [] }
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    func shutdown(deadline: ContinuousClock.Instant) async {
        let connections = state.withLock { state in
            state.draining = true
            // Cancelling the source closes the listening socket (in its cancel handler): new
            // connection attempts are refused by the kernel from here on. A suspended source
            // would never run that handler, hence the resume.
            if let source = state.acceptSource {
                if state.acceptSuspended { source.resume() }
                source.cancel()
            }
            state.acceptSource = nil
            state.acceptSuspended = false
            return state.connections.values.map(\.connection)
        }
        for connection in connections { connection.drain() }
        await waitForConnections(until: deadline)

        for connection in openConnections() { connection.cancelForShutdown() }
        await waitForConnections(until: .now + .seconds(configuration.shutdownCancellationGrace))

        for connection in openConnections() { connection.forceClose() }
        await waitForConnections(until: .now + .seconds(5))
    }

    /// One line per open connection, for diagnosing tests.
    func debugConnections() -> [String] {
        openConnections().map { $0.debugDescription() }
    }

    private func openConnections() -> [Connection] {
        state.withLock { $0.connections.values.map(\.connection) }
    }

    /// Returns once no connection is open, or at `deadline`.
    private func waitForConnections(until deadline: ContinuousClock.Instant) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let id = state.withLock { state -> Int? in
                if state.connections.isEmpty { return nil }
                state.nextWaiterID += 1
                state.waiters[state.nextWaiterID] = continuation
                return state.nextWaiterID
            }
            guard let id else {
                continuation.resume()
                return
            }
            let remaining = ContinuousClock.now.duration(to: deadline)
            let seconds = max(0, remaining.inSeconds)
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [self] in
                let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
                waiter?.resume()
            }
        }
    }
}
