import Dispatch
import Glibc

/// One accepted TCP connection: reads requests with the parser, runs the handler for one request
/// at a time (pipelined requests wait their turn, so responses keep request order), and writes
/// responses with bounded buffering.
///
/// I/O is event driven: the socket is non-blocking and DispatchSource read/write sources plus one
/// timer fire on `queue`, a serial queue of this connection. No blocking call ever runs on Swift's
/// cooperative pool; handler tasks only hop onto `queue` and suspend on continuations.
///
/// `@unchecked Sendable`: every mutable property is touched only on `queue`. Each entry point
/// from another thread (handler task, server) hops onto `queue` first. That confinement plays
/// the role of a lock.
final class Connection: @unchecked Sendable {
    private enum Phase: Equatable {
        /// Reading a request head or body.
        case reading
        /// A handler (or its stream) is running; the response is queued as it comes.
        case handling
        /// The final response is queued; once flushed, we linger and close.
        case closingAfterFlush
        /// Write side shut down; discarding input until EOF or the linger timeout.
        case lingering
        case closed
    }

    private enum TimerPurpose {
        case none, head, body, idle, write, linger
        /// Asking a half-closed client whether it is still there (see `Timeouts.halfClosedProbe`).
        case probe
    }

    let id: Int
    private let fd: Int32
    private let remoteAddress: String
    private let queue: DispatchQueue
    private let core: ServerCore
    private let configuration: HTTPServerConfiguration

    private var phase = Phase.reading
    private var parser: HTTPRequestParser
    private var readSource: DispatchSourceRead?
    private var readSuspended = false
    private var writeSource: DispatchSourceWrite?
    private var writeSuspended = false
    private var liveSources = 0
    private var timer: DispatchSourceTimer?
    private var timerPurpose = TimerPurpose.none
    private var timerDeadline = DispatchTime.distantFuture
    /// For the head and body timers: when they started and their full length, so the deadline can
    /// tighten as the server fills.
    private var timerStart = DispatchTime.now()
    private var timerBase = 0.0

    private var output: [UInt8] = []
    private var outputOffset = 0
    private var writeWaiters: [CheckedContinuation<Void, any Error>] = []
    /// Why writes fail from now on, once the connection is closed.
    private var closeReason = ResponseWriteError.connectionClosed

    private var currentHead: HTTPRequestHead?
    private var body: [UInt8] = []
    private var handlerTask: Task<Void, Never>?
    private var presence: ClientPresence?
    /// Set when the handler has queued its whole response; the next request waits for the flush.
    private var finishedResponseKeepAlive: Bool?
    /// Whether the current request's response head is queued.
    private var responseBegun = false
    /// The client sent FIN: it may still read (a half-close), but nothing more will arrive.
    private var peerHalfClosed = false
    /// Our slot was handed to a newcomer while we were idle: close after any response in progress.
    private var evicted = false
    /// What the server was last told: idle between keep-alive requests (a candidate for eviction).
    private var reportedIdle = false

    init(id: Int, fd: Int32, remoteAddress: String, core: ServerCore) {
        self.id = id
        self.fd = fd
        self.remoteAddress = remoteAddress
        self.core = core
        self.configuration = core.configuration
        self.parser = HTTPRequestParser(limits: core.configuration.limits)
        self.queue = DispatchQueue(label: "enat-serve.http.connection.\(id)")
    }

    private var pendingOutput: Int { output.count - outputOffset }

    /// Input we buffer ahead while a handler runs (pipelining); beyond it we stop reading and
    /// let TCP flow control push back on the client.
    private var readAheadLimit: Int {
        max(64 * 1024, configuration.limits.maxRequestLineBytes + configuration.limits.maxHeaderBytes)
    }

    /// For tests and diagnostics: the current phase, read on the connection's queue.
    func debugDescription() -> String {
        queue.sync { "#\(id) \(phase) timer=\(timerPurpose) partial=\(parser.hasPartialRequest) buffered=\(parser.bufferedByteCount) out=\(pendingOutput) readSuspended=\(readSuspended)" }
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

            if let refusal {
                reject(refusal)
            } else {
                armTightening(.head, base: configuration.timeouts.head)
            }
        }
    }

    /// Shutdown began: close now if idle between requests; otherwise finish with `Connection: close`.
    func drain() {
        queue.async { [self] in
            if phase == .reading && !parser.hasPartialRequest { finalClose() }
        }
    }

    /// Shutdown deadline passed: cancel the handler's task so a stream can wrap up; close anything else.
    func cancelForShutdown() {
        queue.async { [self] in
            if let handlerTask, phase == .handling {
                handlerTask.cancel()
            } else {
                finalClose()
            }
        }
    }

    /// The server is full and handed our slot to a new connection: close now if idle, else after
    /// the response in progress.
    func evict() {
        queue.async { [self] in
            evicted = true
            if phase == .reading && !parser.hasPartialRequest { finalClose() }
        }
    }

    /// Closes right away, failing pending writes with `.connectionClosed`.
    func forceClose() {
        queue.async { [self] in finalClose() }
    }

    // MARK: Reading

    /// Reads until the socket has nothing more (EAGAIN). Dispatch on Linux reports readiness
    /// edge-style: data, FIN and RST arriving together give one event, so a single read per
    /// event could leave the EOF unseen forever. A budget keeps one busy client from
    /// monopolising the queue; leftovers are picked up by a re-queued call.
    private func readable() {
        for _ in 0..<16 {
            guard phase != .closed, !readSuspended else { return }
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
                peerFinished()
                return
            case .closed:
                peerClosed()
                return
            case .transferred:
                consumeInput(received)
            }
        }
        queue.async { [self] in readable() }
    }

    private func consumeInput(_ received: [UInt8]) {
        switch phase {
        case .reading:
            let wasBetweenRequests = !parser.hasPartialRequest
            parser.append(received)
            // The first byte of a request starts its head timeout; before that we were idle.
            if wasBetweenRequests && timerPurpose == .idle {
                report(idle: false)
                armTightening(.head, base: configuration.timeouts.head)
            } else {
                tightenDeadline()
            }
            processInput()
        case .handling:
            parser.append(received)
            if parser.bufferedByteCount > readAheadLimit { suspendReading() }
        case .closingAfterFlush, .lingering, .closed:
            break  // the connection is ending: input is discarded
        }
    }

    private func processInput() {
        while phase == .reading {
            let event: HTTPParserEvent?
            do {
                event = try parser.next()
            } catch {
                reject(error)
                return
            }
            guard let event else { return }
            switch event {
            case .head(let head):
                currentHead = head
                body = []
                if head.framing != .none && head.framing != .contentLength(0) {
                    armTightening(.body, base: configuration.timeouts.body)
                    // The head passed every check and the body will be read for the handler, so now
                    // (and only now) invite it; pointless if the client already started sending it.
                    if head.expectsContinue && parser.bufferedByteCount == 0 {
                        enqueue(ResponseEncoder.continueResponse)
                    }
                }
            case .body(let piece):
                body += piece
            case .end(let trailers):
                dispatchRequest(trailers: trailers)
            }
        }
    }

    /// The connection failed (reset, broken pipe): the client is gone.
    private func peerClosed() {
        closeReason = .clientDisconnected
        finalClose()
    }

    private func report(idle: Bool) {
        guard idle != reportedIdle else { return }
        reportedIdle = idle
        core.connection(self, isIdle: idle)
    }

    /// The client sent FIN. It may have only half-closed (`shutdown(SHUT_WR)`, as `nc -q`, some
    /// proxies and HTTP/1.0-style clients do) and still wait for its answer, so a request received
    /// in full is still answered; the connection closes once that answer is written.
    private func peerFinished() {
        peerHalfClosed = true
        suspendReading()  // nothing more can arrive; reading would only find the EOF again
        switch phase {
        case .reading:
            // No request, or one cut short that can never complete: nobody waits for an answer.
            finalClose()
        case .handling:
            armProbeIfWaiting()
        case .closingAfterFlush:
            break  // the queued answer still goes out; `startLingering` closes after it
        case .lingering:
            finalClose()
        case .closed:
            break
        }
    }

    /// A half-closed client cannot be told from one that closed completely, except by sending it
    /// something: its kernel answers a closed socket with a reset. While its response has not
    /// begun, HTTP/1.1 clients get an interim `100 Continue` now and then (any HTTP/1.1 client
    /// must accept unexpected 1xx; HTTP/1.0 ones must not get one). Once response bytes flow, they
    /// draw the reset themselves; checking for it between writes notices it without waiting for
    /// the next write (a stream's next event may be a whole engine step away).
    private func armProbeIfWaiting() {
        guard phase == .handling, peerHalfClosed, timerPurpose == .none else { return }
        if responseBegun {
            // Cheap (one poll), and a stream's steps can be a few milliseconds apart: a running
            // job is cancelled within about a step of its client's close.
            arm(.probe, after: configuration.timeouts.halfClosedProbe / 100)
        } else if currentHead?.version == .http1_1 {
            arm(.probe, after: configuration.timeouts.halfClosedProbe)
        }
    }

    private func probeHalfClosedClient() {
        guard phase == .handling else { return }
        // A reset in answer to earlier bytes: the client is gone.
        if Socket.hasFailed(fd) {
            peerClosed()
            return
        }
        if !responseBegun { enqueue(ResponseEncoder.continueResponse) }  // a failing send closes right here
        armProbeIfWaiting()
    }

    // MARK: Handling

    private func dispatchRequest(trailers: HTTPHeaders) {
        guard let head = currentHead else { return }
        phase = .handling
        disarm()
        report(idle: false)  // a pipelined request may follow the previous response at once
        armProbeIfWaiting()
        let requestID = RequestID.choose(incoming: head.headers["x-request-id"])
        let request = HTTPRequest(
            method: head.method, target: head.target, path: head.path, queryItems: head.queryItems,
            version: head.version, headers: head.headers, body: body, trailers: trailers)
        body = []
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
            await onQueue { [self] in responseQueued(keepAlive: plan.keepAlive) }
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
            guard phase == .handling else { return }
            if terminate {
                if plan.framing == .chunked { enqueue(ResponseEncoder.lastChunk) }
                responseQueued(keepAlive: plan.keepAlive)
            } else {
                finalClose()
            }
        }
    }

    /// Queues the head (and a byte body); nil when the connection is already gone.
    private func beginResponse(_ response: HTTPResponse, info: ResponseEncoder.RequestInfo) -> ResponseEncoder.Plan? {
        guard phase == .handling else { return nil }
        responseBegun = true
        if timerPurpose == .probe {
            disarm()
            armProbeIfWaiting()  // from now on only watching for a reset
        }
        let kind: ResponseEncoder.BodyKind
        switch response.body {
        case .empty: kind = .empty
        case .bytes(let bytes): kind = .bytes(count: bytes.count)
        case .stream: kind = .stream
        }
        let plan = ResponseEncoder.plan(
            status: response.status, headers: response.headers, body: kind, request: info,
            draining: core.isDraining, serverName: configuration.serverName, date: ResponseEncoder.httpDate())
        var bytes = plan.head
        if plan.sendsBody, case .bytes(let body) = response.body { bytes += body }
        enqueue(bytes)
        return plan
    }

    private func responseQueued(keepAlive: Bool) {
        guard phase == .handling else { return }
        finishedResponseKeepAlive = keepAlive
        if pendingOutput == 0 { responseFlushed() }
    }

    /// The response is fully handed to the kernel: next request, or close.
    private func responseFlushed() {
        let keepAlive = finishedResponseKeepAlive ?? false
        finishedResponseKeepAlive = nil
        presence?.finish()
        presence = nil
        handlerTask = nil
        currentHead = nil
        responseBegun = false
        guard keepAlive && !core.isDraining && !evicted else {
            closeGracefully()
            return
        }
        phase = .reading
        if !peerHalfClosed { resumeReading() }
        if parser.hasPartialRequest {
            armTightening(.head, base: configuration.timeouts.head)
        } else {
            armTightening(.idle, base: configuration.timeouts.idle)
            report(idle: true)
        }
        processInput()
        // Pipelined requests that arrived before the FIN were served above; nothing else can come.
        if phase == .reading && peerHalfClosed { closeGracefully() }
    }

    /// Answers a refused request through the single error mapping, then closes.
    private func reject(_ error: HTTPRequestError) {
        core.onRejection?(error, remoteAddress)
        let response = HTTPErrorResponse.make(for: error, retryAfterSeconds: configuration.retryAfterSeconds)
        var body: [UInt8] = []
        if case .bytes(let bytes) = response.body { body = bytes }
        let info = ResponseEncoder.RequestInfo(method: .get, version: .http1_1, keepAlive: false, requestID: RequestID.generate())
        let plan = ResponseEncoder.plan(
            status: response.status, headers: response.headers, body: .bytes(count: body.count), request: info,
            draining: true, serverName: configuration.serverName, date: ResponseEncoder.httpDate())
        let bytes = plan.head + body
        phase = .closingAfterFlush
        disarm()
        enqueue(bytes)  // may close (peer gone) or start lingering (all flushed) right away
        closeGracefully()
    }

    // MARK: Writing

    /// Called by the stream writer from the handler's task.
    fileprivate func writeBody(_ bytes: [UInt8]) async throws(ResponseWriteError) {
        do {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                queue.async { [self] in
                    guard phase == .handling else {
                        continuation.resume(throwing: closeReason)
                        return
                    }
                    enqueue(bytes)
                    if phase != .handling {
                        continuation.resume(throwing: closeReason)
                    } else if pendingOutput > configuration.maxBufferedResponseBytes {
                        writeWaiters.append(continuation)  // resumed by `flush` once drained, or failed on close
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
            guard phase == .handling else { return .failure(closeReason) }
            guard pendingOutput == 0 || pendingOutput + bytes.count <= configuration.maxBufferedResponseBytes else {
                return .success(false)
            }
            enqueue(bytes)
            return phase == .handling ? .success(true) : .failure(closeReason)
        }
        return try outcome.get()
    }

    private func enqueue(_ bytes: [UInt8]) {
        guard phase != .closed && phase != .lingering, !bytes.isEmpty else { return }
        output += bytes
        flush()
    }

    private func flush() {
        guard phase != .closed else { return }
        var progressed = false
        while pendingOutput > 0 {
            let result = output.withUnsafeBytes { raw in
                Socket.send(fd, UnsafeRawBufferPointer(rebasing: raw[outputOffset...]))
            }
            switch result {
            case .transferred(let count):
                outputOffset += count
                progressed = true
                if pendingOutput <= configuration.maxBufferedResponseBytes / 2 { resumeWriters() }
            case .wouldBlock:
                if outputOffset >= 64 * 1024 {
                    output.removeSubrange(0..<outputOffset)
                    outputOffset = 0
                }
                resumeWriting()
                // A reader that stalls makes no progress: the write timeout is counted from the last progress.
                if phase != .reading && (progressed || timerPurpose != .write) {
                    arm(.write, after: configuration.timeouts.write)
                }
                return
            case .closed, .endOfStream:
                peerClosed()
                return
            }
        }
        output.removeAll(keepingCapacity: output.capacity <= 256 * 1024)
        outputOffset = 0
        suspendWriting()
        if timerPurpose == .write { disarm() }
        armProbeIfWaiting()
        resumeWriters()
        switch phase {
        case .closingAfterFlush: startLingering()
        case .handling where finishedResponseKeepAlive != nil: responseFlushed()
        default: break
        }
    }

    private func resumeWriters() {
        let waiters = writeWaiters
        writeWaiters = []
        for waiter in waiters { waiter.resume() }
    }

    // MARK: Closing

    private func closeGracefully() {
        // A failed write may already have closed us (peer gone); closed is final.
        guard phase != .closed else { return }
        phase = .closingAfterFlush
        if pendingOutput == 0 { startLingering() }
    }

    /// Half-close and drain instead of closing at once: closing with unread input makes the
    /// kernel send RST, which can wipe our last response out of the client's receive buffer.
    private func startLingering() {
        guard phase != .closed && phase != .lingering else { return }
        phase = .lingering
        Socket.shutdownWrite(fd)
        // The client's FIN is already here: there is nothing left to drain.
        if peerHalfClosed {
            finalClose()
            return
        }
        resumeReading()
        arm(.linger, after: configuration.timeouts.linger)
    }

    private func finalClose() {
        guard phase != .closed else { return }
        phase = .closed
        let waiters = writeWaiters
        writeWaiters = []
        for waiter in waiters { waiter.resume(throwing: closeReason) }
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
        output = []
        outputOffset = 0
        core.connectionClosed(self)
    }

    /// The fd is closed only when no source watches it any more, so it cannot be reused under one.
    private func sourceCancelled() {
        liveSources -= 1
        if liveSources == 0 { Socket.close(fd) }
    }

    // MARK: Sources and timer

    private func suspendReading() {
        guard let readSource, !readSuspended else { return }
        readSource.suspend()
        readSuspended = true
    }

    private func resumeReading() {
        guard let readSource, readSuspended else { return }
        readSource.resume()
        readSuspended = false
        // Input that arrived while suspended raises no new edge: look for it ourselves.
        queue.async { [self] in readable() }
    }

    private func resumeWriting() {
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

    private func suspendWriting() {
        guard let writeSource, !writeSuspended else { return }
        writeSource.suspend()
        writeSuspended = true
    }

    /// Arms a head, body or idle timer at its length scaled for the server's occupancy.
    private func armTightening(_ purpose: TimerPurpose, base: Double) {
        timerStart = .now()
        timerBase = base
        arm(purpose, after: base * core.timeoutScale)
    }

    /// On new input: a head or body deadline moves earlier if the server filled up since it was set.
    private func tightenDeadline() {
        guard timerPurpose == .head || timerPurpose == .body else { return }
        let tightened = timerStart + timerBase * core.timeoutScale
        guard tightened < timerDeadline else { return }
        timerDeadline = tightened
        timer?.schedule(deadline: tightened, repeating: .never, leeway: .milliseconds(5))
    }

    private func arm(_ purpose: TimerPurpose, after seconds: Double) {
        timerPurpose = purpose
        timerDeadline = .now() + seconds
        timer?.schedule(deadline: timerDeadline, repeating: .never, leeway: .milliseconds(5))
    }

    private func disarm() {
        timerPurpose = .none
        timerDeadline = .distantFuture
        timer?.schedule(deadline: .distantFuture, repeating: .never)
    }

    private func timerFired() {
        // An event from before a re-arm may still be delivered; only a due deadline counts.
        guard phase != .closed, DispatchTime.now() >= timerDeadline else { return }
        let purpose = timerPurpose
        disarm()
        switch purpose {
        case .none:
            break
        case .idle:
            finalClose()
        case .head:
            // Nothing of a request arrived: there is nobody to answer, just go.
            if parser.hasPartialRequest { reject(.headTimeout) } else { finalClose() }
        case .body:
            reject(.bodyTimeout)
        case .write:
            closeReason = .writeTimeout
            finalClose()
        case .linger:
            finalClose()
        case .probe:
            probeHalfClosedClient()
        }
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
