import Dispatch
import Glibc

/// One accepted TCP connection: the socket driver of a `ConnectionStateMachine`. It reads and
/// writes the non-blocking socket, runs the handler of each request the machine dispatches (one
/// at a time, so pipelined responses keep request order), and performs the machine's actions.
/// Every rule (timeouts, limits, keep-alive, half-close, lingering) is the machine's.
///
/// I/O is event driven: DispatchSource read/write sources plus one timer fire on `queue`, a
/// serial queue of this connection. No blocking call ever runs on Swift's cooperative pool;
/// handler tasks only hop onto `queue` and suspend on continuations.
///
/// `@unchecked Sendable`: every mutable property is touched only on `queue`. Each entry point
/// from another thread (handler task, server) hops onto `queue` first. That confinement plays
/// the role of a lock.
final class Connection: @unchecked Sendable {
    let id: Int
    private let fd: Int32
    private let remoteAddress: String
    private let queue: DispatchQueue
    private let core: ServerCore

    private var machine: ConnectionStateMachine
    private var readSource: DispatchSourceRead?
    private var readSuspended = false
    private var writeSource: DispatchSourceWrite?
    private var writeSuspended = false
    private var liveSources = 0
    private var timer: DispatchSourceTimer?
    /// The machine's deadline the timer is set for; nil when the timer is off.
    private var scheduledDeadline: ContinuousClock.Instant?

    private var writeWaiters: [CheckedContinuation<Void, any Error>] = []
    private var handlerTask: Task<Void, Never>?
    private var presence: ClientPresence?

    init(id: Int, fd: Int32, remoteAddress: String, core: ServerCore) {
        self.id = id
        self.fd = fd
        self.remoteAddress = remoteAddress
        self.core = core
        self.queue = DispatchQueue(label: "enat-serve.http.connection.\(id)")
        let environment = ConnectionStateMachine.Environment(
            now: { .now }, timeoutScale: { core.timeoutScale }, isDraining: { core.isDraining },
            httpDate: { ResponseEncoder.httpDate() })
        self.machine = ConnectionStateMachine(configuration: core.configuration, environment: environment)
    }

    /// For tests and diagnostics: the current state, read on the connection's queue.
    func debugDescription() -> String {
        queue.sync { "#\(id) \(machine.description) waitingWriters=\(writeWaiters.count)" }
    }

    // MARK: Entry points (any thread)

    /// Starts serving; with `refusal` it only answers that error (503, 429) and closes.
    func start(refusing refusal: HTTPRequestError?) {
        queue.async { [self] in
            let timer = DispatchSource.makeTimerSource(queue: queue)
            timer.setEventHandler { [self] in timerFired() }
            timer.schedule(deadline: .distantFuture, repeating: .never)
            timer.activate()
            self.timer = timer

            let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
            source.setEventHandler { [self] in readable() }
            source.setCancelHandler { [self] in sourceCancelled() }
            liveSources += 1
            source.activate()
            readSource = source

            perform(machine.start(refusing: refusal))
        }
    }

    /// Shutdown began: close now if idle between requests; otherwise finish with `Connection: close`.
    func drain() {
        queue.async { [self] in perform(machine.drain()) }
    }

    /// Shutdown deadline passed: cancel the handler's task so a stream can wrap up; close anything else.
    func cancelForShutdown() {
        queue.async { [self] in perform(machine.cancelForShutdown()) }
    }

    /// The server is full and handed our slot to a new connection: close now if idle, else after
    /// the response in progress.
    func evict() {
        queue.async { [self] in perform(machine.evict()) }
    }

    /// Closes right away, failing pending writes with `.connectionClosed`.
    func forceClose() {
        queue.async { [self] in perform(machine.forceClose()) }
    }

    // MARK: Actions

    private func perform(_ actions: [ConnectionStateMachine.Action]) {
        for action in actions {
            switch action {
            case .dispatch(let head, let body, let trailers):
                dispatch(head, body: body, trailers: trailers)
            case .reportRejection(let error):
                core.onRejection?(error, remoteAddress)
            case .flush:
                flush()
            case .suspendReading:
                guard let readSource, !readSuspended else { break }
                readSource.suspend()
                readSuspended = true
            case .resumeReading:
                guard let readSource, readSuspended else { break }
                readSource.resume()
                readSuspended = false
                // Input that arrived while suspended raises no new edge: look for it ourselves.
                queue.async { [self] in readable() }
            case .watchWritable:
                watchWritable()
            case .stopWatchingWritable:
                guard let writeSource, !writeSuspended else { break }
                writeSource.suspend()
                writeSuspended = true
            case .resumeWriters:
                let waiters = writeWaiters
                writeWaiters = []
                for waiter in waiters { waiter.resume() }
            case .reportIdle(let idle):
                core.connection(self, isIdle: idle)
            case .responseFinished:
                presence?.finish()
                presence = nil
                handlerTask = nil
            case .cancelHandler:
                handlerTask?.cancel()
            case .checkForReset:
                perform(machine.resetCheck(found: Socket.hasFailed(fd)))
            case .shutdownWrite:
                Socket.shutdownWrite(fd)
            case .close(let reason):
                close(reason)
            }
        }
        scheduleTimer()
    }

    /// Sets the timer to the machine's deadline when it moved.
    private func scheduleTimer() {
        guard let timer, machine.deadline != scheduledDeadline else { return }
        scheduledDeadline = machine.deadline
        guard let deadline = machine.deadline else {
            timer.schedule(deadline: .distantFuture, repeating: .never)
            return
        }
        let remaining = ContinuousClock.now.duration(to: deadline)
        let nanoseconds = max(0, remaining.components.seconds * 1_000_000_000 + remaining.components.attoseconds / 1_000_000_000)
        timer.schedule(deadline: .now() + .nanoseconds(Int(nanoseconds)), repeating: .never, leeway: .milliseconds(5))
    }

    private func timerFired() {
        guard !machine.isClosed else { return }
        // Early by a rounding error, or from before a re-arm: set it again for the machine's deadline.
        scheduledDeadline = nil
        perform(machine.timerFired())
    }

    // MARK: Reading

    /// Reads until the socket has nothing more (EAGAIN). Dispatch on Linux reports readiness
    /// edge-style: data, FIN and RST arriving together give one event, so a single read per
    /// event could leave the EOF unseen forever. A budget keeps one busy client from
    /// monopolising the queue; leftovers are picked up by a re-queued call.
    private func readable() {
        for _ in 0..<16 {
            guard !machine.isClosed, !readSuspended else { return }
            var received: [UInt8] = []
            let result = withUnsafeTemporaryAllocation(byteCount: 16 * 1024, alignment: 1) { buffer in
                let result = Socket.receive(fd, into: buffer)
                if case .transferred(let count) = result { received = Array(buffer[0..<count]) }
                return result
            }
            switch result {
            case .wouldBlock:
                return
            case .endOfStream:
                perform(machine.peerFinished())
                return
            case .closed:
                perform(machine.peerFailed())
                return
            case .transferred:
                perform(machine.received(received))
            }
        }
        queue.async { [self] in readable() }
    }

    // MARK: Handling

    private func dispatch(_ head: HTTPRequestHead, body: [UInt8], trailers: HTTPHeaders) {
        let requestID = RequestID.choose(incoming: head.headers["x-request-id"])
        let request = HTTPRequest(
            method: head.method, target: head.target, path: head.path, queryItems: head.queryItems,
            version: head.version, headers: head.headers, body: body, trailers: trailers)
        let presence = ClientPresence()
        self.presence = presence
        let core = self.core
        let context = RequestContext(
            requestID: requestID, remoteAddress: remoteAddress, presence: presence,
            isDraining: { core.isDraining })
        let info = ResponseEncoder.RequestInfo(
            method: head.method, version: head.version, keepAlive: head.keepAlive, requestID: requestID)
        handlerTask = Task { [self] in
            await run(request: request, context: context, info: info, presence: presence)
        }
    }

    /// Runs in the handler's task, off `queue`.
    private func run(
        request: HTTPRequest, context: RequestContext, info: ResponseEncoder.RequestInfo, presence: ClientPresence
    ) async {
        let response = await core.handler(request, context)
        guard let plan = await onQueue({ [self] in beginResponse(response, info: info) }) else { return }
        guard case .stream(let produce) = response.body, plan.sendsBody else {
            await onQueue { [self] in perform(machine.finishResponse(keepAlive: plan.keepAlive)) }
            return
        }
        let writer = ResponseBodyWriter(
            sink: StreamSink(connection: self, chunked: plan.framing == .chunked, presence: presence))
        let terminate: Bool
        do {
            try await produce(writer)
            terminate = true
        } catch {
            // A stream that fails mid-body must look truncated to the client, so no terminating
            // chunk; unless the server cancelled it for shutdown, which is a clean end.
            terminate = Task.isCancelled && core.isDraining
        }
        await onQueue { [self] in
            if terminate {
                let trailer = plan.framing == .chunked ? ResponseEncoder.lastChunk : []
                perform(machine.finishResponse(trailer: trailer, keepAlive: plan.keepAlive))
            } else {
                perform(machine.abortResponse())
            }
        }
    }

    /// Queues the head (and a byte body); nil when the connection is already gone.
    private func beginResponse(_ response: HTTPResponse, info: ResponseEncoder.RequestInfo) -> ResponseEncoder.Plan? {
        guard machine.isHandling else { return nil }
        let kind: ResponseEncoder.BodyKind
        switch response.body {
        case .empty: kind = .empty
        case .bytes(let bytes): kind = .bytes(count: bytes.count)
        case .stream: kind = .stream
        }
        let plan = ResponseEncoder.plan(
            status: response.status, headers: response.headers, body: kind, request: info,
            draining: core.isDraining, serverName: core.configuration.serverName, date: ResponseEncoder.httpDate())
        var bytes = plan.head
        if plan.sendsBody, case .bytes(let body) = response.body { bytes += body }
        guard let actions = machine.beginResponse(bytes) else { return nil }
        perform(actions)
        return plan
    }

    // MARK: Writing

    /// Called by the stream writer from the handler's task.
    fileprivate func writeBody(_ bytes: [UInt8]) async throws(ResponseWriteError) {
        do {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                queue.async { [self] in
                    guard machine.isHandling else {
                        continuation.resume(throwing: machine.closeReason)
                        return
                    }
                    perform(machine.queueBody(bytes))
                    if !machine.isHandling {
                        continuation.resume(throwing: machine.closeReason)
                    } else if machine.writerMustWait {
                        writeWaiters.append(continuation)  // resumed once drained, or failed on close
                    } else {
                        continuation.resume()
                    }
                }
            }
        } catch let error as ResponseWriteError {
            throw error
        } catch {
            throw .connectionClosed
        }
    }

    /// Called by the stream writer: queues only if the bound allows, never waits.
    fileprivate func writeBodyIfRoom(_ bytes: [UInt8]) async throws(ResponseWriteError) -> Bool {
        let outcome: Result<Bool, ResponseWriteError> = await onQueue { [self] in
            guard machine.isHandling else { return .failure(machine.closeReason) }
            guard machine.hasRoom(for: bytes.count) else { return .success(false) }
            perform(machine.queueBody(bytes))
            return machine.isHandling ? .success(true) : .failure(machine.closeReason)
        }
        return try outcome.get()
    }

    /// Sends what the machine has queued until the kernel takes no more.
    private func flush() {
        while !machine.isClosed, machine.pendingOutputCount > 0 {
            let result = machine.withPendingOutput { Socket.send(fd, $0) }
            switch result {
            case .transferred(let count):
                perform(machine.didSend(count))
            case .wouldBlock:
                perform(machine.sendWouldBlock())
                return
            case .closed, .endOfStream:
                perform(machine.peerFailed())
                return
            }
        }
    }

    private func watchWritable() {
        if let writeSource {
            if writeSuspended {
                writeSource.resume()
                writeSuspended = false
            }
            return
        }
        let source = DispatchSource.makeWriteSource(fileDescriptor: fd, queue: queue)
        source.setEventHandler { [self] in flush() }
        source.setCancelHandler { [self] in sourceCancelled() }
        liveSources += 1
        source.activate()
        writeSource = source
        writeSuspended = false
    }

    // MARK: Closing

    private func close(_ reason: ResponseWriteError) {
        let waiters = writeWaiters
        writeWaiters = []
        for waiter in waiters { waiter.resume(throwing: reason) }
        presence?.markDisconnected()
        presence = nil
        timer?.cancel()
        timer = nil
        // A suspended source would never deliver its cancellation, so resume before cancelling.
        if let readSource {
            if readSuspended { readSource.resume() }
            readSource.cancel()
        }
        if let writeSource {
            if writeSuspended { writeSource.resume() }
            writeSource.cancel()
        }
        readSource = nil
        writeSource = nil
        core.connectionClosed(self)
    }

    /// The fd is closed only when no source watches it any more, so it cannot be reused under one.
    private func sourceCancelled() {
        liveSources -= 1
        if liveSources == 0 { Socket.close(fd) }
    }

    private func onQueue<Result: Sendable>(_ body: @escaping @Sendable () -> Result) async -> Result {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: body()) }
        }
    }
}

/// Feeds a stream's bytes to its connection, framed as chunks when the response is chunked.
private struct StreamSink: ResponseBodySink {
    let connection: Connection
    let chunked: Bool
    let presence: ClientPresence

    func writeBody(_ bytes: [UInt8]) async throws(ResponseWriteError) {
        try await connection.writeBody(chunked ? ResponseEncoder.chunk(bytes) : bytes)
    }

    func writeBodyIfRoom(_ bytes: [UInt8]) async throws(ResponseWriteError) -> Bool {
        try await connection.writeBodyIfRoom(chunked ? ResponseEncoder.chunk(bytes) : bytes)
    }

    var isClientConnected: Bool { presence.isConnected }
}
