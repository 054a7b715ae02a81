import LockedValue
import Scheduler

/// The items waiting for one response's writer loop, bounded for a client that reads slowly.
///
/// While the writer waits for the client (the connection's own output buffer is full), items
/// queue here. They cannot pile up: a new preview frame of a job takes the place of that job's
/// older frame still waiting (the older step event stays, without its image, so progress counts
/// stay complete), and a ping does not queue behind another ping. So a writer that is behind
/// holds at most one frame per job. Terminal events, and with them the final images and
/// errors, are never dropped.
final class WatchBuffer: Sendable {
    private struct State {
        var items: [WatchItem] = []
        /// Items before `head` have been taken; compacted when they make up half the array.
        var head = 0

        var pending: ArraySlice<WatchItem> { items[head...] }
    }

    private let state = Locked(State())
    /// Wakes the reader. Only the reader's side holds the stream: once the reader drops it, the
    /// stream terminates (and `onTermination` runs), however long producers keep this buffer.
    private let signal: AsyncStream<Void>.Continuation
    private let onFrameDropped: @Sendable () -> Void

    private init(signal: AsyncStream<Void>.Continuation, onFrameDropped: @escaping @Sendable () -> Void) {
        self.signal = signal
        self.onFrameDropped = onFrameDropped
    }

    /// A buffer for producers and the sequence of its items for the one reader.
    /// `onFrameDropped` runs once for every frame that a newer one replaced.
    static func make(onFrameDropped: @escaping @Sendable () -> Void = {}) -> (buffer: WatchBuffer, items: Items) {
        // One pending wake-up is enough: the reader empties the buffer before it waits again.
        let (signals, signal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let buffer = WatchBuffer(signal: signal, onFrameDropped: onFrameDropped)
        return (buffer, Items(buffer: buffer, signals: signals))
    }

    /// Runs once the reader stopped (the sequence finished, or its task was cancelled).
    func onTermination(_ action: @escaping @Sendable () -> Void) {
        signal.onTermination = { _ in action() }
    }

    func push(_ item: WatchItem) {
        let dropped = state.withLock { state -> Bool in
            var dropped = false
            switch item {
            case .ping:
                if state.pending.contains(where: { if case .ping = $0 { true } else { false } }) { return false }
            case .event(let index, .step(let progress)) where progress.previewPNG != nil:
                // At most one frame of a job is ever pending, so the newest older one is the only one.
                if let position = state.pending.lastIndex(where: { $0.previewOf(job: index) != nil }),
                    case .event(_, .step(let older)) = state.items[position]
                {
                    state.items[position] = .event(index: index, .step(older.withoutPreview))
                    dropped = true
                }
            case .event, .clientGone:
                break
            }
            state.items.append(item)
            return dropped
        }
        if dropped { onFrameDropped() }
        signal.yield()
    }

    /// No more items will come; the reader gets those still pending, then the end.
    func finish() {
        signal.finish()
    }

    fileprivate func pop() -> WatchItem? {
        state.withLock { state in
            guard state.head < state.items.count else { return nil }
            let item = state.items[state.head]
            state.head += 1
            if state.head * 2 >= state.items.count {
                state.items.removeFirst(state.head)
                state.head = 0
            }
            return item
        }
    }

    /// Items pending (tests, diagnostics).
    var pendingCount: Int { state.withLock { $0.pending.count } }

    /// The items in order, for one reader. It ends after `finish` once every pending item was
    /// read, or at once when the reading task is cancelled.
    struct Items: AsyncSequence {
        fileprivate let buffer: WatchBuffer
        fileprivate let signals: AsyncStream<Void>

        /// Items pushed and not read yet (tests, diagnostics).
        var pendingCount: Int { buffer.pendingCount }

        func makeAsyncIterator() -> Iterator {
            Iterator(buffer: buffer, signals: signals.makeAsyncIterator())
        }

        struct Iterator: AsyncIteratorProtocol {
            fileprivate let buffer: WatchBuffer
            fileprivate var signals: AsyncStream<Void>.Iterator
            private var finished = false

            fileprivate init(buffer: WatchBuffer, signals: AsyncStream<Void>.Iterator) {
                self.buffer = buffer
                self.signals = signals
            }

            mutating func next() async -> WatchItem? {
                while true {
                    if Task.isCancelled { return nil }
                    if let item = buffer.pop() { return item }
                    if finished { return nil }
                    // Nil: finished (what was pushed before is still pending) or cancelled.
                    if await signals.next() == nil { finished = true }
                }
            }
        }
    }
}

extension WatchItem {
    /// The preview frame of job `index` this item carries, if any.
    fileprivate func previewOf(job index: Int) -> [UInt8]? {
        if case .event(index, .step(let progress)) = self { return progress.previewPNG }
        return nil
    }
}

extension StepProgress {
    fileprivate var withoutPreview: StepProgress {
        StepProgress(step: step, steps: steps, revealed: revealed, tokenCount: tokenCount, previewPNG: nil)
    }
}
