import XCTest

@testable import HTTPServer

/// The connection's rules driven without sockets or sleeps: a hand-moved clock and a simulated
/// kernel stand in for the driver. Timeouts are the defaults (head 10 s, body 30 s, idle 60 s,
/// write 30 s, linger 1 s, half-closed probe 0.5 s) unless a test says otherwise.
final class ConnectionStateMachineTests: XCTestCase {
    // MARK: Timeouts

    func testConnectionThatNeverSendsClosesSilentlyAtTheHeadTimeout() {
        let connection = MachineHarness()
        connection.start()
        connection.advance(by: 9.99)
        XCTAssertFalse(connection.isClosed)
        connection.advance(by: 0.01)
        XCTAssertEqual(connection.closedWith, .connectionClosed)
        XCTAssertEqual(connection.sentText, "", "nobody to answer")
    }

    func testSlowHeadGets408ThenLingersThenCloses() {
        let connection = MachineHarness()
        connection.start()
        connection.receive("GET / HTTP/1.1\r\nHost: t\r\n")
        connection.advance(by: 9.99)
        XCTAssertEqual(connection.sentText, "")
        connection.advance(by: 0.01)
        XCTAssertTrue(connection.sentText.hasPrefix("HTTP/1.1 408 "), connection.sentText)
        XCTAssertTrue(connection.sentText.lowercased().contains("connection: close\r\n"))
        XCTAssertTrue(connection.sentText.contains(#""code":"request_head_timeout""#))
        XCTAssertEqual(connection.rejections, [.headTimeout])
        XCTAssertTrue(connection.log.contains(.shutdownWrite))
        XCTAssertEqual(connection.machine.phase, .lingering, "draining the client's input before closing")
        connection.advance(by: 0.99)
        XCTAssertFalse(connection.isClosed)
        connection.advance(by: 0.01)
        XCTAssertEqual(connection.closedWith, .connectionClosed)
    }

    func testHeadTimeoutCountsFromTheFirstByteAfterIdle() {
        let connection = MachineHarness()
        connection.start()
        connection.receive("GET /a HTTP/1.1\r\nHost: t\r\n\r\n")
        connection.respond()
        XCTAssertEqual(connection.machine.timerPurpose, .idle)
        XCTAssertEqual(connection.idleReports, [true])
        connection.advance(by: 50)  // past the head timeout: an idle connection is governed by the idle one
        XCTAssertFalse(connection.isClosed)
        connection.receive("GET / HTT")
        XCTAssertEqual(connection.idleReports, [true, false])
        connection.advance(by: 9.99)
        XCTAssertEqual(connection.rejections, [])
        connection.advance(by: 0.01)
        XCTAssertEqual(connection.rejections, [.headTimeout])
    }

    func testIdleKeepAliveConnectionClosesSilently() {
        let connection = MachineHarness()
        connection.start()
        connection.receive("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        connection.respond()
        let answered = connection.sent.count
        connection.advance(by: 59.99)
        XCTAssertFalse(connection.isClosed)
        connection.advance(by: 0.01)
        XCTAssertEqual(connection.closedWith, .connectionClosed)
        XCTAssertEqual(connection.sent.count, answered, "no answer to nobody")
    }

    func testSlowBodyGets408() {
        let connection = MachineHarness()
        connection.start()
        connection.advance(by: 5)
        connection.receive("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
        connection.advance(by: 29.99)  // the head timeout (5 s left of it) no longer applies
        XCTAssertEqual(connection.rejections, [])
        connection.advance(by: 0.01)
        XCTAssertEqual(connection.rejections, [.bodyTimeout])
        XCTAssertTrue(connection.sentText.hasPrefix("HTTP/1.1 408 "))
        XCTAssertTrue(connection.sentText.contains(#""code":"request_body_timeout""#))
        XCTAssertTrue(connection.dispatched.isEmpty)
    }

    func testLongHandlersAreNotCutByReadTimeouts() {
        let connection = MachineHarness()
        connection.start()
        connection.receive("GET /sleep HTTP/1.1\r\nHost: t\r\n\r\n")
        XCTAssertEqual(connection.dispatched.map(\.path), ["/sleep"])
        XCTAssertNil(connection.machine.deadline)
        connection.advance(by: 3600)
        XCTAssertFalse(connection.isClosed)
        connection.respond(text: "slept")
        XCTAssertTrue(connection.sentText.hasSuffix("slept"))
    }

    /// A slow head that began on an empty server is cut short once the server fills up.
    func testSlowHeadDeadlineTightensAsTheServerFills() {
        let connection = MachineHarness { $0.timeouts.head = 30 }
        connection.start()
        connection.receive("GET / HTTP/1.1\r\n")
        connection.advance(by: 1)
        connection.clock.timeoutScale = 0.01  // 0.3 s at a full server
        XCTAssertEqual(connection.rejections, [], "the deadline moves on the next input, not by itself")
        connection.receive("X-Trickle: 1\r\n")
        XCTAssertEqual(connection.rejections, [.headTimeout], "0.3 s from the head's start are long gone")

        let other = MachineHarness { $0.timeouts.head = 30 }
        other.start()
        other.receive("GET / HTTP/1.1\r\n")
        other.clock.timeoutScale = 0.5
        other.receive("X-Trickle: 1\r\n")
        other.advance(by: 14.99)
        XCTAssertEqual(other.rejections, [])
        other.advance(by: 0.01)
        XCTAssertEqual(other.rejections, [.headTimeout], "15 s, not 30")
    }

    func testStalledReaderIsDroppedAfterTheWriteTimeout() {
        let connection = MachineHarness { $0.timeouts.write = 30 }
        connection.start()
        connection.receive("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        connection.beginStream()
        connection.kernelRoom = 100
        connection.write(1000)
        XCTAssertEqual(connection.machine.timerPurpose, .write)
        XCTAssertTrue(connection.log.contains(.watchWritable))
        connection.advance(by: 20)
        connection.kernelRoom = 100  // the client reads a little: the timeout starts over
        connection.writable()
        connection.advance(by: 29.99)
        XCTAssertFalse(connection.isClosed)
        connection.writable()  // a wake-up without progress does not restart it
        connection.advance(by: 0.01)
        XCTAssertEqual(connection.closedWith, .writeTimeout)
    }

    func testLingerEndsWhenTheClientCloses() {
        let connection = MachineHarness()
        connection.start()
        connection.receive("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        connection.respond(keepAlive: false)
        XCTAssertEqual(connection.machine.phase, .lingering)
        XCTAssertEqual(connection.machine.timerPurpose, .linger)
        connection.receive("late bytes are discarded")
        XCTAssertEqual(connection.machine.phase, .lingering)
        connection.finish()
        XCTAssertEqual(connection.closedWith, .connectionClosed)
    }

    // MARK: Half-close

    func testHalfClosedRequestIsAnsweredThenClosed() {
        let connection = MachineHarness()
        connection.start()
        connection.receive("GET /a HTTP/1.1\r\nHost: t\r\n\r\n")
        connection.finish()
        XCTAssertFalse(connection.isClosed)
        connection.respond()
        XCTAssertEqual(connection.closedWith, .connectionClosed, "nothing more can come")
        XCTAssertTrue(connection.sentText.hasSuffix("ok /a"))
    }

    func testIncompleteRequestAtFINClosesSilently() {
        let connection = MachineHarness()
        connection.start()
        connection.receive("GET / HTTP/1.1\r\nHost: t\r\n")
        connection.finish()
        XCTAssertEqual(connection.closedWith, .connectionClosed)
        XCTAssertEqual(connection.sentText, "")
    }

    func testHalfClosedClientIsProbedUntilItsResponseBegins() {
        let connection = MachineHarness()
        connection.start()
        connection.receive("GET /long HTTP/1.1\r\nHost: t\r\n\r\n")
        connection.finish()
        connection.advance(by: 0.49)
        XCTAssertEqual(connection.sentText, "")
        connection.advance(by: 0.01)
        XCTAssertEqual(connection.sentText, "HTTP/1.1 100 Continue\r\n\r\n")
        connection.advance(by: 0.5)
        XCTAssertEqual(connection.sentText, String(repeating: "HTTP/1.1 100 Continue\r\n\r\n", count: 2))
        connection.respond(text: "done")
        XCTAssertTrue(connection.sentText.hasSuffix("done"))
        XCTAssertEqual(connection.closedWith, .connectionClosed)
    }

    func testStreamToAHalfClosedClientChecksForAResetEveryHundredthOfTheProbe() {
        let connection = MachineHarness()
        connection.start()
        connection.receive("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        connection.finish()
        connection.beginStream()
        XCTAssertEqual(connection.machine.timerPurpose, .probe)
        connection.advance(by: 0.004)
        XCTAssertEqual(connection.resetChecks, 0)
        connection.advance(by: 0.002)
        XCTAssertEqual(connection.resetChecks, 1, "after 5 ms")
        XCTAssertFalse(connection.sentText.contains("100 Continue"), "response bytes probe by themselves")
        connection.clientReset = true
        connection.advance(by: 0.005)
        XCTAssertEqual(connection.resetChecks, 2)
        XCTAssertEqual(connection.closedWith, .clientDisconnected)
    }

    func testHTTP10HalfCloseGetsNoProbe() {
        let connection = MachineHarness()
        connection.start()
        connection.receive("GET / HTTP/1.0\r\n\r\n")
        connection.finish()
        XCTAssertNil(connection.machine.deadline)
        connection.advance(by: 60)
        XCTAssertEqual(connection.sentText, "", "no interim response for HTTP/1.0")
        connection.respond(text: "done")
        XCTAssertTrue(connection.sentText.hasPrefix("HTTP/1.1 200 "))
    }

    // MARK: Order, limits, keep-alive

    func testPipelinedRequestWaitsUntilThePreviousResponseIsFlushed() {
        let connection = MachineHarness()
        connection.start()
        connection.receive("GET /1 HTTP/1.1\r\nHost: t\r\n\r\nPOST /2 HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi")
        XCTAssertEqual(connection.dispatched.map(\.path), ["/1"])
        connection.kernelRoom = 10
        connection.respond(text: "first")
        XCTAssertEqual(connection.dispatched.map(\.path), ["/1"], "its response is not out yet")
        connection.kernelRoom = .max
        connection.writable()
        XCTAssertEqual(connection.dispatched.map(\.path), ["/1", "/2"])
        XCTAssertEqual(connection.bodies.last, Array("hi".utf8))
        XCTAssertEqual(connection.idleReports, [], "never idle between pipelined requests")
    }

    func testReadAheadIsBoundedWhileAHandlerRuns() {
        let connection = MachineHarness()
        connection.start()
        connection.receive("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        connection.receive(String(repeating: "x", count: 64 * 1024))
        XCTAssertFalse(connection.log.contains(.suspendReading))
        connection.receive("x")
        XCTAssertTrue(connection.log.contains(.suspendReading), "TCP flow control pushes back from here")
        connection.respond()
        XCTAssertTrue(connection.log.contains(.resumeReading))
        XCTAssertEqual(connection.rejections.count, 1, "the read-ahead was garbage")
    }

    func testExpectContinueOnlyWhenTheBodyIsWanted() {
        let invited = MachineHarness()
        invited.start()
        invited.receive("POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        XCTAssertEqual(invited.sentText, "HTTP/1.1 100 Continue\r\n\r\n")

        let tooLarge = MachineHarness { $0.limits.maxBodyBytes = 10 }
        tooLarge.start()
        tooLarge.receive("POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 11\r\n\r\n")
        XCTAssertTrue(tooLarge.sentText.hasPrefix("HTTP/1.1 413 "), "no 100 Continue may come first")

        let alreadySent = MachineHarness()
        alreadySent.start()
        alreadySent.receive("POST /echo HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi")
        XCTAssertEqual(alreadySent.sentText, "")
        XCTAssertEqual(alreadySent.bodies, [Array("hi".utf8)])
    }

    func testEveryMalformedRequestIsRejectedWithItsStatus() {
        for testCase in HTTPRequestParserTests.malformed {
            let connection = MachineHarness()
            connection.start()
            connection.receive(testCase.input)
            XCTAssertEqual(connection.rejections, [testCase.error], testCase.name)
            XCTAssertTrue(connection.sentText.hasPrefix("HTTP/1.1 \(testCase.status) "), testCase.name)
            XCTAssertEqual(connection.machine.phase, .lingering, testCase.name)
        }
    }

    func testRefusedConnectionGetsItsAnswerAndCloses() {
        let connection = MachineHarness { $0.retryAfterSeconds = 4 }
        connection.start(refusing: .serverBusy)
        XCTAssertTrue(connection.sentText.hasPrefix("HTTP/1.1 503 "))
        XCTAssertTrue(connection.sentText.lowercased().contains("retry-after: 4\r\n"))
        XCTAssertEqual(connection.rejections, [.serverBusy])
    }

    func testStreamWriterWaitsAboveTheBufferBound() {
        let connection = MachineHarness { $0.maxBufferedResponseBytes = 1000 }
        connection.start()
        connection.receive("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        connection.kernelRoom = 0
        connection.beginStream()
        connection.write(900)
        XCTAssertFalse(connection.machine.writerMustWait)
        XCTAssertFalse(connection.machine.hasRoom(for: 200), "writeIfRoom refuses what would pass the bound")
        connection.write(200)
        XCTAssertTrue(connection.machine.writerMustWait)
        let resumesBefore = connection.log.filter { $0 == .resumeWriters }.count
        connection.kernelRoom = connection.machine.pendingOutputCount - 501
        connection.writable()
        XCTAssertEqual(connection.log.filter { $0 == .resumeWriters }.count, resumesBefore, "not below half yet")
        connection.kernelRoom = 1
        connection.writable()
        XCTAssertGreaterThan(connection.log.filter { $0 == .resumeWriters }.count, resumesBefore)
        XCTAssertTrue(connection.machine.hasRoom(for: 200))
    }

    func testHTTP10ClosesUnlessKeepAliveIsAsked() {
        let plain = MachineHarness()
        plain.start()
        plain.receive("GET /a HTTP/1.0\r\n\r\n")
        plain.respond(keepAlive: false)
        XCTAssertEqual(plain.machine.phase, .lingering)

        let kept = MachineHarness()
        kept.start()
        kept.receive("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        XCTAssertEqual(kept.dispatched.last?.keepAlive, true)
        kept.respond(keepAlive: true)
        XCTAssertEqual(kept.machine.phase, .reading)
    }

    // MARK: Server events

    func testEvictionClosesAnIdleConnectionAtOnceAndABusyOneAfterItsResponse() {
        let idle = MachineHarness()
        idle.start()
        idle.receive("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        idle.respond()
        idle.perform(idle.machine.evict())
        XCTAssertEqual(idle.closedWith, .connectionClosed)

        let busy = MachineHarness()
        busy.start()
        busy.receive("GET / HTTP/1.1\r\n")
        busy.perform(busy.machine.evict())
        XCTAssertFalse(busy.isClosed, "in the middle of a request")
        busy.receive("Host: t\r\n\r\n")
        busy.respond()
        XCTAssertEqual(busy.machine.phase, .lingering, "closes after its response")
    }

    func testDrainClosesIdleConnectionsAndFinishesRunningRequests() {
        let running = MachineHarness()
        running.start()
        running.receive("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        running.clock.draining = true
        running.perform(running.machine.drain())
        XCTAssertFalse(running.isClosed)
        running.perform(running.machine.cancelForShutdown())
        XCTAssertTrue(running.log.contains(.cancelHandler))
        running.respond()
        XCTAssertEqual(running.machine.phase, .lingering, "no keep-alive while draining")

        let idle = MachineHarness()
        idle.start()
        idle.perform(idle.machine.drain())
        XCTAssertEqual(idle.closedWith, .connectionClosed)
    }

    func testStaleTimerEventsAreIgnored() {
        let connection = MachineHarness()
        connection.start()
        connection.clock.now += .seconds(5)
        connection.perform(connection.machine.timerFired())
        XCTAssertFalse(connection.isClosed, "an event before the deadline changes nothing")
        XCTAssertEqual(connection.machine.timerPurpose, .head)
    }
}

/// A hand-moved clock and the server conditions a machine reads.
final class ManualConnectionClock {
    var now = ContinuousClock.now
    var timeoutScale = 1.0
    var draining = false
}

/// A `ConnectionStateMachine` with a simulated driver: a kernel that takes `kernelRoom` more bytes
/// (then blocks), a client whose kernel answers probes with a reset when `clientReset`, and a
/// timer that fires whenever the clock passes the machine's deadline.
final class MachineHarness {
    let clock = ManualConnectionClock()
    var machine: ConnectionStateMachine
    var log: [ConnectionStateMachine.Action] = []
    var sent: [UInt8] = []
    var kernelRoom = Int.max
    var clientReset = false
    var resetChecks = 0

    init(_ configure: (inout HTTPServerConfiguration) -> Void = { _ in }) {
        var configuration = HTTPServerConfiguration()
        configure(&configuration)
        let clock = self.clock
        machine = ConnectionStateMachine(
            configuration: configuration,
            environment: .init(
                now: { clock.now }, timeoutScale: { clock.timeoutScale }, isDraining: { clock.draining },
                httpDate: { "Thu, 01 Jan 1970 00:00:00 GMT" }))
    }

    var isClosed: Bool { machine.isClosed }
    var sentText: String { String(decoding: sent, as: UTF8.self) }
    var dispatched: [HTTPRequestHead] {
        log.compactMap { if case .dispatch(let head, _, _) = $0 { head } else { nil } }
    }
    var bodies: [[UInt8]] {
        log.compactMap { if case .dispatch(_, let body, _) = $0 { body } else { nil } }
    }
    var rejections: [HTTPRequestError] {
        log.compactMap { if case .reportRejection(let error) = $0 { error } else { nil } }
    }
    var idleReports: [Bool] {
        log.compactMap { if case .reportIdle(let idle) = $0 { idle } else { nil } }
    }
    var closedWith: ResponseWriteError? {
        log.lazy.compactMap { if case .close(let reason) = $0 { reason } else { nil } }.first
    }

    func start(refusing refusal: HTTPRequestError? = nil) { perform(machine.start(refusing: refusal)) }
    func receive(_ text: String) {
        perform(machine.received(Array(text.utf8)))
        advance(by: 0)  // a deadline that moved into the past fires at once
    }
    /// The client's FIN.
    func finish() { perform(machine.peerFinished()) }
    func writable() { flush() }

    /// Moves the clock (in whole milliseconds, so steps add up exactly), firing the timer at each
    /// deadline passed on the way.
    func advance(by seconds: Double) {
        let target = clock.now + .milliseconds(Int((seconds * 1000).rounded()))
        while let deadline = machine.deadline, deadline <= target {
            clock.now = max(clock.now, deadline)
            perform(machine.timerFired())
        }
        clock.now = target
    }

    /// A complete byte response, as the driver would queue it.
    func respond(text: String = "ok /a", keepAlive: Bool = true) {
        let head = "HTTP/1.1 200 OK\r\nContent-Length: \(text.utf8.count)\r\n\r\n"
        if let actions = machine.beginResponse(Array((head + text).utf8)) { perform(actions) }
        perform(machine.finishResponse(keepAlive: keepAlive))
    }

    func beginStream() {
        let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        if let actions = machine.beginResponse(Array(head.utf8)) { perform(actions) }
    }

    func write(_ count: Int) { perform(machine.queueBody([UInt8](repeating: 120, count: count))) }

    func perform(_ actions: [ConnectionStateMachine.Action]) {
        for action in actions {
            log.append(action)
            switch action {
            case .flush:
                flush()
            case .checkForReset:
                resetChecks += 1
                perform(machine.resetCheck(found: clientReset))
            default:
                break
            }
        }
    }

    private func flush() {
        while !machine.isClosed, machine.pendingOutputCount > 0 {
            guard kernelRoom > 0 else {
                perform(machine.sendWouldBlock())
                return
            }
            let taken = machine.withPendingOutput { Array($0.prefix(kernelRoom)) }
            sent += taken
            if kernelRoom != .max { kernelRoom -= taken.count }
            perform(machine.didSend(taken.count))
        }
    }
}
