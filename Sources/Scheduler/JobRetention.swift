/// Finished jobs in the order they finished, so the scheduler can forget them without scanning
/// every job it knows: each one `duration` after it finished, and, oldest first, as many as it
/// takes to keep at most `maxJobs` jobs and `maxBytes` bytes.
struct JobRetention: Sendable {
    struct Limits: Sendable, Equatable {
        var duration: Duration
        var maxJobs: Int
        var maxBytes: Int

        init(duration: Duration, maxJobs: Int = .max, maxBytes: Int = .max) {
            self.duration = duration
            self.maxJobs = max(0, maxJobs)
            self.maxBytes = max(0, maxBytes)
        }

        init(_ configuration: SchedulerConfiguration) {
            self.init(
                duration: configuration.jobRetention, maxJobs: configuration.maxRetainedJobs,
                maxBytes: configuration.maxRetainedBytes)
        }
    }

    /// Why a job was forgotten: the label of `enat_retention_evictions_total`.
    enum Eviction: String, Sendable, CaseIterable {
        /// Its retention time ended.
        case expired
        /// Newer jobs took its place under `maxJobs`.
        case count
        /// Newer jobs took its place under `maxBytes`.
        case bytes
    }

    /// A rough allowance for what a finished job holds besides its image and tokens: its record,
    /// its request and its event history (frames are dropped when a job finishes).
    static let jobOverheadBytes = 2048

    private struct Entry {
        let id: String
        let expiresAt: ContinuousClock.Instant
        let bytes: Int
    }

    let limits: Limits
    private var entries: [Entry] = []
    /// Entries before `head` are gone; compacted when they make up half the array.
    private var head = 0
    /// Sum of the retained entries' bytes.
    private(set) var bytes = 0

    init(limits: Limits) { self.limits = limits }

    var count: Int { entries.count - head }

    /// When the oldest retained job expires; nil when none is retained.
    var nextExpiry: ContinuousClock.Instant? { head < entries.count ? entries[head].expiresAt : nil }

    /// Retains a job that finished at `now`, holding about `bytes` (see `jobOverheadBytes`).
    /// Call `removeExcess` afterwards to apply the bounds.
    mutating func retire(_ id: String, bytes: Int, at now: ContinuousClock.Instant) {
        entries.append(Entry(id: id, expiresAt: now + limits.duration, bytes: bytes))
        self.bytes += bytes
    }

    /// Calls `forget` for every job whose retention ended by `now`, then for the oldest ones
    /// while more than `maxJobs` jobs or `maxBytes` bytes are retained; oldest first.
    mutating func removeExcess(at now: ContinuousClock.Instant, _ forget: (String, Eviction) -> Void) {
        // Finish times only grow (one clock, appended under one lock), so expired entries lead.
        while head < entries.count {
            let entry = entries[head]
            let reason: Eviction
            if entry.expiresAt <= now {
                reason = .expired
            } else if count > limits.maxJobs {
                reason = .count
            } else if bytes > limits.maxBytes {
                reason = .bytes
            } else {
                break
            }
            forget(entry.id, reason)
            bytes -= entry.bytes
            head += 1
        }
        if head > 0, head * 2 >= entries.count {
            entries.removeFirst(head)
            head = 0
        }
    }
}
