/// The scheduler's time: the continuous clock, or in tests one they move by hand (retention
/// spans minutes). Deadlines and durations are `ContinuousClock` instants either way.
struct SchedulerClock: Sendable {
    private let read: @Sendable () -> ContinuousClock.Instant
    private let observeJumps: @Sendable (@escaping @Sendable () -> Void) -> Void

    /// `observeJumps` registers a callback for when the clock is moved by hand, so an idle
    /// inference thread re-reads the time at once instead of at its next periodic wake-up.
    init(
        _ read: @escaping @Sendable () -> ContinuousClock.Instant,
        observeJumps: @escaping @Sendable (@escaping @Sendable () -> Void) -> Void = { _ in }
    ) {
        self.read = read
        self.observeJumps = observeJumps
    }

    var now: ContinuousClock.Instant { read() }

    /// Calls `action` whenever the clock jumps; the continuous clock never does.
    func onJump(_ action: @escaping @Sendable () -> Void) {
        observeJumps(action)
    }

    static let continuous = SchedulerClock { ContinuousClock.now }
}
