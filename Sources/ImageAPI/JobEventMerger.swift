import HTTPServer
import LockedValue
import Scheduler

/// What a waiting or streaming response reacts to, as one sequence: the events of its jobs,
/// ping ticks and the client's disconnect. One consumer loop then owns every write, so writes
/// never interleave.
enum WatchItem: Sendable {
    /// An event of `jobs[index]`.
    case event(index: Int, GenerationEvent)
    /// Time for a keep-alive comment.
    case ping
    /// The client closed the connection.
    case clientGone
}

enum JobEventMerger {
    /// The merged sequence, bounded for a slow consumer as `WatchBuffer` describes (older
    /// frames give way to newer ones; `onFrameDropped` counts them). It finishes once every job
    /// reported its terminal event, and ends (returns nil) when the consuming task is cancelled,
    /// for example by a server shutdown past its deadline. Its helper tasks stop when it ends.
    static func merge(
        _ jobs: [GenerationJob], pingInterval: Duration?, context: RequestContext,
        onFrameDropped: @escaping @Sendable () -> Void = {}
    ) -> WatchBuffer.Items {
        let (buffer, items) = WatchBuffer.make(onFrameDropped: onFrameDropped)
        let remaining = Locked(jobs.count)
        var tasks: [Task<Void, Never>] = []
        for (index, job) in jobs.enumerated() {
            tasks.append(
                Task {
                    for await event in job.events() {
                        buffer.push(.event(index: index, event))
                    }
                    let last = remaining.withLock { count -> Bool in
                        count -= 1
                        return count == 0
                    }
                    if last { buffer.finish() }
                })
        }
        if let pingInterval {
            tasks.append(
                Task {
                    while true {
                        do { try await Task.sleep(for: pingInterval) } catch { return }
                        buffer.push(.ping)
                    }
                })
        }
        let helpers = tasks
        buffer.onTermination {
            for task in helpers { task.cancel() }
        }
        context.onClientDisconnect { buffer.push(.clientGone) }
        return items
    }
}
