/// Finished jobs in the order they finished, so the scheduler can forget each one
/// `duration` after it finished without scanning every job it knows.
struct JobRetention: Sendable {
    let duration: Duration
    private var entries: [(id: String, expiresAt: ContinuousClock.Instant)] = []
    /// Entries before `head` are gone; compacted when they make up half the array.
    private var head = 0

    init(duration: Duration) { self.duration = duration }

    var count: Int { entries.count - head }

    mutating func retire(_ id: String, at now: ContinuousClock.Instant) {
        entries.append((id, now + duration))
    }

    /// Calls `forget` for every job whose retention ended by `now`, oldest first.
    mutating func removeExpired(at now: ContinuousClock.Instant, _ forget: (String) -> Void) {
        // Finish times only grow (one clock, appended under one lock), so expired entries lead.
        while head < entries.count, entries[head].expiresAt <= now {
            forget(entries[head].id)
            head += 1
        }
        if head > 0, head * 2 >= entries.count {
            entries.removeFirst(head)
            head = 0
        }
    }
}
