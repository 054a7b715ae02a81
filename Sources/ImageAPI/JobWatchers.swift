import Foundation
import LockedValue
import Scheduler

/// Who is watching which job, so that a job nobody wants any more stops at the next step.
///
/// Jobs created by a request that also waits for them (an OpenAI-style request, a stream, a PNG)
/// are *owned by their watchers*: when the last watcher of such a job disconnects, the job is
/// cancelled. Jobs created by `POST /v1/jobs` answered with JSON are not: the client will come
/// back for them.
final class JobWatchers: Sendable {
    private struct Entry {
        var watchers = 0
        var cancelWhenAbandoned = false
    }

    private let entries = Locked<[String: Entry]>([:])

    /// One watcher's registration; `end` is idempotent.
    final class Watch: Sendable {
        private let job: GenerationJob
        private let registry: JobWatchers
        private let ended = Locked(false)

        fileprivate init(job: GenerationJob, registry: JobWatchers) {
            self.job = job
            self.registry = registry
        }

        /// The watcher is done. `disconnected`: it left before the job ended (the client went away).
        func end(disconnected: Bool) {
            let first = ended.withLock { ended in
                defer { ended = true }
                return !ended
            }
            if first { registry.leave(job, disconnected: disconnected) }
        }
    }

    /// Registers a watcher of `job`. `owning`: the job was created for this watcher and should
    /// not outlive its watchers.
    func watch(_ job: GenerationJob, owning: Bool) -> Watch {
        entries.withLock { entries in
            var entry = entries[job.id] ?? Entry()
            entry.watchers += 1
            if owning { entry.cancelWhenAbandoned = true }
            entries[job.id] = entry
        }
        return Watch(job: job, registry: self)
    }

    /// Current watchers of a job (tests, diagnostics).
    func watcherCount(_ jobID: String) -> Int {
        entries.withLock { $0[jobID]?.watchers ?? 0 }
    }

    private func leave(_ job: GenerationJob, disconnected: Bool) {
        let abandon = entries.withLock { entries -> Bool in
            guard var entry = entries[job.id] else { return false }
            entry.watchers -= 1
            if entry.watchers > 0 {
                entries[job.id] = entry
                return false
            }
            entries[job.id] = nil
            return disconnected && entry.cancelWhenAbandoned
        }
        if abandon { job.cancel() }
    }
}
