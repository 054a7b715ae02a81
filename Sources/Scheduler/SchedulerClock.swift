/// The scheduler's time: the continuous clock, or in tests one they move by hand (retention
/// spans minutes). Deadlines and durations are `ContinuousClock` instants either way.
struct SchedulerClock: Sendable {
    private let read: @Sendable () -> ContinuousClock.Instant

    init(_ read: @escaping @Sendable () -> ContinuousClock.Instant) {
        self.read = read
    }

    var now: ContinuousClock.Instant { read() }

    static let continuous = SchedulerClock { ContinuousClock.now }
}
