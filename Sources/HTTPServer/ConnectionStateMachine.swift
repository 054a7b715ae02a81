/// Every decision of one connection that needs no socket: request parsing progress, the head,
/// body, idle, write, linger and half-close probe timers, the read-ahead and response-buffer
/// bounds, keep-alive or close, pipelining order and lingering. Bytes and events go in, actions
/// come out; time comes from `Environment.now`, so tests drive it with a hand-moved clock.
///
/// `Connection` is its socket driver: it reads and writes, runs handlers, and performs the
/// actions. The response bytes queue lives here (`withPendingOutput`); the driver sends from it and
/// reports what the kernel took.
struct ConnectionStateMachine {
    /// What the machine asks of the server around it, read when needed.
    struct Environment {
        /// A monotonic instant; deadlines are counted in it.
        var now: () -> ContinuousClock.Instant
        /// The factor for head, body and idle timeouts at the server's current occupancy.
        var timeoutScale: () -> Double
        /// Shutdown began: a finished response closes the connection.
        var isDraining: () -> Bool
        /// The `Date` header's value.
        var httpDate: () -> String
    }

    enum Phase: Equatable {
        /// Reading a request head or body (or idle between requests).
        case reading
        /// A handler (or its stream) is running; the response is queued as it comes.
        case handling
        /// The final response is queued; once flushed, we linger and close.
        case closingAfterFlush
        /// Write side shut down; discarding input until EOF or the linger timeout.
        case lingering
        case closed
    }

    enum TimerPurpose: Equatable {
        case none, head, body, idle, write, linger
        /// Asking a half-closed client whether it is still there (see `Timeouts.halfClosedProbe`).
        case probe
    }

    /// What the driver must do, in order.
    enum Action: Equatable {
        /// A request arrived in full: run the handler.
        case dispatch(HTTPRequestHead, body: [UInt8], trailers: HTTPHeaders)
        /// A request was refused before any handler (its error response is queued): tell the observer.
        case reportRejection(HTTPRequestError)
        /// Bytes were queued: send from `pendingOutput`.
        case flush
        case suspendReading
        /// Reading again; input that arrived meanwhile raised no event, so read now.
        case resumeReading
        /// The kernel took less than queued: send more once the socket is writable.
        case watchWritable
        case stopWatchingWritable
        /// Writers waiting for the queue to drain may go on.
        case resumeWriters
        /// Tell the server whether the connection waits idle between keep-alive requests.
        case reportIdle(Bool)
        /// The current response is complete: its handler and its presence are done.
        case responseFinished
        /// Shutdown deadline: cancel the running handler's task.
        case cancelHandler
        /// Check whether the half-closed client answered with a reset; report with `resetCheck(found:)`.
        case checkForReset
        /// Half-close our side (the final response is out).
        case shutdownWrite
        /// The connection is over; pending and future writes fail with this.
        case close(ResponseWriteError)
    }

    let configuration: HTTPServerConfiguration
    private let environment: Environment

    private(set) var phase = Phase.reading
    private var parser: HTTPRequestParser
    private(set) var timerPurpose = TimerPurpose.none
    /// When the timer fires; nil when none is armed.
    private(set) var deadline: ContinuousClock.Instant?
    /// For the head and body timers: when they started and their full length, so the deadline can
    /// tighten as the server fills.
    private var timerStart: ContinuousClock.Instant
    private var timerBase = 0.0

    private var output: [UInt8] = []
    private var outputOffset = 0
    /// The kernel took bytes since the last time it took no more (restarts the write timeout).
    private var progressedSinceBlocked = false
    /// Why writes fail from now on, once the connection is closed.
    private(set) var closeReason = ResponseWriteError.connectionClosed

    private var currentHead: HTTPRequestHead?
    private var body: [UInt8] = []
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
    private(set) var readingSuspended = false
    private var watchingWritable = false

    private var actions: [Action] = []

    init(configuration: HTTPServerConfiguration, environment: Environment) {
        self.configuration = configuration
        self.environment = environment
        self.parser = HTTPRequestParser(limits: configuration.limits)
        self.timerStart = environment.now()
    }

    var isClosed: Bool { phase == .closed }

    /// Response bytes queued and not yet taken by the kernel.
    var pendingOutputCount: Int { output.count - outputOffset }

    /// Lends the queued bytes to `send` (which reports how many it took via `didSend`).
    func withPendingOutput<Result>(_ send: (UnsafeRawBufferPointer) -> Result) -> Result {
        output.withUnsafeBytes { raw in send(UnsafeRawBufferPointer(rebasing: raw[outputOffset...])) }
    }

    /// A stream writer that just queued must wait until the queue drained below half of its bound.
    var writerMustWait: Bool { pendingOutputCount > configuration.maxBufferedResponseBytes }

    /// Whether `count` more bytes fit under the response buffer bound right now (an empty queue
    /// takes anything, so one large frame is never refused forever).
    func hasRoom(for count: Int) -> Bool {
        pendingOutputCount == 0 || pendingOutputCount + count <= configuration.maxBufferedResponseBytes
    }

    var isHandling: Bool { phase == .handling }

    /// For tests and diagnostics.
    var description: String {
        "\(phase) timer=\(timerPurpose) partial=\(parser.hasPartialRequest) buffered=\(parser.bufferedByteCount) "
            + "out=\(pendingOutputCount) readSuspended=\(readingSuspended)"
    }

    /// Input we buffer ahead while a handler runs (pipelining); beyond it we stop reading and
    /// let TCP flow control push back on the client.
    private var readAheadLimit: Int {
        max(64 * 1024, configuration.limits.maxRequestLineBytes + configuration.limits.maxHeaderBytes)
    }

    // MARK: Events from the server

    /// Starts serving; with `refusal` it only answers that error (503, 429) and closes.
    mutating func start(refusing refusal: HTTPRequestError?) -> [Action] {
        if let refusal {
            reject(refusal)
        } else {
            armTightening(.head, base: configuration.timeouts.head)
        }
        return takeActions()
    }

    /// Shutdown began: close now if idle between requests; otherwise finish with `Connection: close`.
    mutating func drain() -> [Action] {
        if phase == .reading && !parser.hasPartialRequest { finalClose() }
        return takeActions()
    }

    /// The server is full and handed our slot to a new connection: close now if idle, else after
    /// the response in progress.
    mutating func evict() -> [Action] {
        evicted = true
        if phase == .reading && !parser.hasPartialRequest { finalClose() }
        return takeActions()
    }

    /// Shutdown deadline passed: cancel the handler's task so a stream can wrap up; close anything else.
    mutating func cancelForShutdown() -> [Action] {
        if phase == .handling {
            emit(.cancelHandler)
        } else {
            finalClose()
        }
        return takeActions()
    }

    /// Closes right away, failing pending writes with `.connectionClosed`.
    mutating func forceClose() -> [Action] {
        finalClose()
        return takeActions()
    }

    // MARK: Events from the socket

    mutating func received(_ bytes: [UInt8]) -> [Action] {
        switch phase {
        case .reading:
            let wasBetweenRequests = !parser.hasPartialRequest
            parser.append(bytes)
            // The first byte of a request starts its head timeout; before that we were idle.
            if wasBetweenRequests && timerPurpose == .idle {
                report(idle: false)
                armTightening(.head, base: configuration.timeouts.head)
            } else {
                tightenDeadline()
            }
            processInput()
        case .handling:
            parser.append(bytes)
            if parser.bufferedByteCount > readAheadLimit { suspendReading() }
        case .closingAfterFlush, .lingering, .closed:
            break  // the connection is ending: input is discarded
        }
        return takeActions()
    }

    /// The client sent FIN. It may have only half-closed (`shutdown(SHUT_WR)`, as `nc -q`, some
    /// proxies and HTTP/1.0-style clients do) and still wait for its answer, so a request received
    /// in full is still answered; the connection closes once that answer is written.
    mutating func peerFinished() -> [Action] {
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
        return takeActions()
    }

    /// The connection failed (reset, broken pipe): the client is gone.
    mutating func peerFailed() -> [Action] {
        peerClosed()
        return takeActions()
    }

    /// The kernel took `count` bytes of `pendingOutput`.
    mutating func didSend(_ count: Int) -> [Action] {
        guard phase != .closed else { return takeActions() }
        outputOffset += min(count, pendingOutputCount)
        progressedSinceBlocked = true
        if pendingOutputCount <= configuration.maxBufferedResponseBytes / 2 { emit(.resumeWriters) }
        if pendingOutputCount == 0 { outputFlushed() }
        return takeActions()
    }

    /// The kernel took no more for now.
    mutating func sendWouldBlock() -> [Action] {
        guard phase != .closed else { return takeActions() }
        if outputOffset >= 64 * 1024 {
            output.removeSubrange(0..<outputOffset)
            outputOffset = 0
        }
        if !watchingWritable {
            watchingWritable = true
            emit(.watchWritable)
        }
        // A reader that stalls makes no progress: the write timeout is counted from the last progress.
        if phase != .reading && (progressedSinceBlocked || timerPurpose != .write) {
            arm(.write, after: configuration.timeouts.write)
        }
        progressedSinceBlocked = false
        return takeActions()
    }

    /// The timer went off. An event from before a re-arm may still be delivered; only a due
    /// deadline counts.
    mutating func timerFired() -> [Action] {
        guard phase != .closed, let deadline, environment.now() >= deadline else { return takeActions() }
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
            emit(.checkForReset)
        }
        return takeActions()
    }

    /// The answer to `.checkForReset`: whether the half-closed client's kernel sent a reset.
    mutating func resetCheck(found: Bool) -> [Action] {
        guard phase == .handling else { return takeActions() }
        // A reset in answer to earlier bytes: the client is gone.
        if found {
            peerClosed()
            return takeActions()
        }
        if !responseBegun { enqueue(ResponseEncoder.continueResponse) }
        armProbeIfWaiting()
        return takeActions()
    }

    // MARK: Events from the handler

    /// Queues the response head (and a byte body); nil when the connection is already gone.
    mutating func beginResponse(_ bytes: [UInt8]) -> [Action]? {
        guard phase == .handling else { return nil }
        responseBegun = true
        if timerPurpose == .probe {
            disarm()
            armProbeIfWaiting()  // from now on only watching for a reset
        }
        enqueue(bytes)
        return takeActions()
    }

    /// Queues stream bytes (already framed); the caller then looks at `isHandling` and `writerMustWait`.
    mutating func queueBody(_ bytes: [UInt8]) -> [Action] {
        if phase == .handling { enqueue(bytes) }
        return takeActions()
    }

    /// The handler queued its whole response (`trailer`: the terminating chunk, if any).
    mutating func finishResponse(trailer: [UInt8] = [], keepAlive: Bool) -> [Action] {
        guard phase == .handling else { return takeActions() }
        enqueue(trailer)
        finishedResponseKeepAlive = keepAlive
        if pendingOutputCount == 0 { responseFlushed() }
        return takeActions()
    }

    /// A stream failed mid-body: it must look truncated to the client, so close without more.
    mutating func abortResponse() -> [Action] {
        if phase == .handling { finalClose() }
        return takeActions()
    }

    // MARK: Reading

    private mutating func processInput() {
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

    private mutating func dispatchRequest(trailers: HTTPHeaders) {
        guard let head = currentHead else { return }
        phase = .handling
        disarm()
        report(idle: false)  // a pipelined request may follow the previous response at once
        armProbeIfWaiting()
        emit(.dispatch(head, body: body, trailers: trailers))
        body = []
    }

    private mutating func report(idle: Bool) {
        guard idle != reportedIdle else { return }
        reportedIdle = idle
        emit(.reportIdle(idle))
    }

    private mutating func suspendReading() {
        guard phase != .closed, !readingSuspended else { return }
        readingSuspended = true
        emit(.suspendReading)
    }

    private mutating func resumeReading() {
        guard phase != .closed, readingSuspended else { return }
        readingSuspended = false
        emit(.resumeReading)
    }

    private mutating func peerClosed() {
        closeReason = .clientDisconnected
        finalClose()
    }

    /// A half-closed client cannot be told from one that closed completely, except by sending it
    /// something: its kernel answers a closed socket with a reset. While its response has not
    /// begun, HTTP/1.1 clients get an interim `100 Continue` now and then (any HTTP/1.1 client
    /// must accept unexpected 1xx; HTTP/1.0 ones must not get one). Once response bytes flow, they
    /// draw the reset themselves; checking for it between writes notices it without waiting for
    /// the next write (a stream's next event may be a whole engine step away).
    private mutating func armProbeIfWaiting() {
        guard phase == .handling, peerHalfClosed, timerPurpose == .none else { return }
        if responseBegun {
            // Cheap (one poll), and a stream's steps can be a few milliseconds apart: a running
            // job is cancelled within about a step of its client's close.
            arm(.probe, after: configuration.timeouts.halfClosedProbe / 100)
        } else if currentHead?.version == .http1_1 {
            arm(.probe, after: configuration.timeouts.halfClosedProbe)
        }
    }

    // MARK: Responses

    /// Answers a refused request through the single error mapping, then closes.
    private mutating func reject(_ error: HTTPRequestError) {
        emit(.reportRejection(error))
        let response = HTTPErrorResponse.make(for: error, retryAfterSeconds: configuration.retryAfterSeconds)
        var body: [UInt8] = []
        if case .bytes(let bytes) = response.body { body = bytes }
        let info = ResponseEncoder.RequestInfo(method: .get, version: .http1_1, keepAlive: false, requestID: RequestID.generate())
        let plan = ResponseEncoder.plan(
            status: response.status, headers: response.headers, body: .bytes(count: body.count), request: info,
            draining: true, serverName: configuration.serverName, date: environment.httpDate())
        phase = .closingAfterFlush
        disarm()
        enqueue(plan.head + body)
        closeGracefully()
    }

    /// The response is fully handed to the kernel: next request, or close.
    private mutating func responseFlushed() {
        let keepAlive = finishedResponseKeepAlive ?? false
        finishedResponseKeepAlive = nil
        emit(.responseFinished)
        currentHead = nil
        responseBegun = false
        guard keepAlive && !environment.isDraining() && !evicted else {
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

    // MARK: Writing

    private mutating func enqueue(_ bytes: [UInt8]) {
        guard phase != .closed && phase != .lingering, !bytes.isEmpty else { return }
        output += bytes
        emit(.flush)
    }

    private mutating func outputFlushed() {
        output.removeAll(keepingCapacity: output.capacity <= 256 * 1024)
        outputOffset = 0
        if watchingWritable {
            watchingWritable = false
            emit(.stopWatchingWritable)
        }
        if timerPurpose == .write { disarm() }
        armProbeIfWaiting()
        switch phase {
        case .closingAfterFlush: startLingering()
        case .handling where finishedResponseKeepAlive != nil: responseFlushed()
        default: break
        }
    }

    // MARK: Closing

    private mutating func closeGracefully() {
        // A failed write may already have closed us (peer gone); closed is final.
        guard phase != .closed else { return }
        phase = .closingAfterFlush
        if pendingOutputCount == 0 { startLingering() }
    }

    /// Half-close and drain instead of closing at once: closing with unread input makes the
    /// kernel send RST, which can wipe our last response out of the client's receive buffer.
    private mutating func startLingering() {
        guard phase != .closed && phase != .lingering else { return }
        phase = .lingering
        emit(.shutdownWrite)
        // The client's FIN is already here: there is nothing left to drain.
        if peerHalfClosed {
            finalClose()
            return
        }
        resumeReading()
        arm(.linger, after: configuration.timeouts.linger)
    }

    private mutating func finalClose() {
        guard phase != .closed else { return }
        phase = .closed
        disarm()
        output = []
        outputOffset = 0
        emit(.close(closeReason))
    }

    // MARK: Timer

    /// Arms a head, body or idle timer at its length scaled for the server's occupancy.
    private mutating func armTightening(_ purpose: TimerPurpose, base: Double) {
        timerStart = environment.now()
        timerBase = base
        arm(purpose, after: base * environment.timeoutScale())
    }

    /// On new input: a head or body deadline moves earlier if the server filled up since it was set.
    private mutating func tightenDeadline() {
        guard timerPurpose == .head || timerPurpose == .body, let deadline else { return }
        let tightened = timerStart + .seconds(timerBase * environment.timeoutScale())
        if tightened < deadline { self.deadline = tightened }
    }

    private mutating func arm(_ purpose: TimerPurpose, after seconds: Double) {
        timerPurpose = purpose
        deadline = environment.now() + .seconds(seconds)
    }

    private mutating func disarm() {
        timerPurpose = .none
        deadline = nil
    }

    private mutating func emit(_ action: Action) {
        actions.append(action)
    }

    private mutating func takeActions() -> [Action] {
        defer { actions = [] }
        return actions
    }
}
