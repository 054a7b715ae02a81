import Foundation
import LockedValue
import Scheduler

/// The API's own counters: requests by route and status, their durations, open streams, and
/// the requests the HTTP layer refused before routing.
final class HTTPMetrics: Sendable {
    private struct State {
        var requests: [Key: Int] = [:]
        var duration = Histogram(upperBounds: Histogram.secondsBounds)
        var openStreams = 0
        var framesDropped = 0
        var rejections: [RejectionKey: Int] = [:]
        var invalidSubmissions = 0
    }

    struct RejectionKey: Hashable, Sendable {
        var reason: String
        var code: Int
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

    func recordRejection(reason: String, code: Int) {
        state.withLock { $0.rejections[RejectionKey(reason: reason, code: code), default: 0] += 1 }
    }

    /// A generation request answered 400 (the API validates before the scheduler sees it).
    func recordInvalidSubmission() { state.withLock { $0.invalidSubmissions += 1 } }

    var invalidSubmissions: Int { state.withLock { $0.invalidSubmissions } }

    func streamOpened() { state.withLock { $0.openStreams += 1 } }
    func streamClosed() { state.withLock { $0.openStreams -= 1 } }
    /// A stream's client read too slowly, and a newer preview frame replaced one still waiting.
    func frameDropped() { state.withLock { $0.framesDropped += 1 } }
    var framesDropped: Int { state.withLock { $0.framesDropped } }

    var snapshot: (requests: [Key: Int], duration: Histogram, openStreams: Int, rejections: [RejectionKey: Int]) {
        state.withLock { ($0.requests, $0.duration, $0.openStreams, $0.rejections) }
    }
}
