import Foundation
import Scheduler

/// The API's own counters: requests by route and status, their durations, open streams.
final class HTTPMetrics: Sendable {
    private struct State {
        var requests: [Key: Int] = [:]
        var duration = Histogram(upperBounds: Histogram.secondsBounds)
        var openStreams = 0
    }

    struct Key: Hashable, Sendable {
        var route: String
        var code: Int
    }

    private let state = Locked(State())

    func record(route: String, code: Int, seconds: Double) {
        state.withLock { state in
            state.requests[Key(route: route, code: code), default: 0] += 1
            state.duration.observe(seconds)
        }
    }

    func streamOpened() { state.withLock { $0.openStreams += 1 } }
    func streamClosed() { state.withLock { $0.openStreams -= 1 } }

    var snapshot: (requests: [Key: Int], duration: Histogram, openStreams: Int) {
        state.withLock { ($0.requests, $0.duration, $0.openStreams) }
    }
}
