/// Why a streaming write failed. In every case the stream is over: stop producing.
public enum ResponseWriteError: Error, Sendable, Equatable {
    /// The client closed or reset the connection.
    case clientDisconnected
    /// The client stopped reading and the queued bytes made no progress for `Timeouts.write`.
    case writeTimeout
    /// The server closed the connection (e.g. a shutdown past its grace period).
    case connectionClosed
}

/// Where a writer's bytes go; the connection in production, anything in tests.
protocol ResponseBodySink: Sendable {
    func writeBody(_ bytes: [UInt8]) async throws(ResponseWriteError)
    /// Queues `bytes` only if they fit under the buffer bound now; false (nothing queued) otherwise.
    func writeBodyIfRoom(_ bytes: [UInt8]) async throws(ResponseWriteError) -> Bool
    var isClientConnected: Bool { get }
}

/// Writes the body of a `.stream` response.
///
/// What a connection queues is bounded: `write` queues its bytes and then suspends while more
/// than `maxBufferedResponseBytes` are queued (until half of it drained), so a slow client slows
/// the producer instead of growing memory; a client that reads nothing for `Timeouts.write` is
/// dropped and the write throws `.writeTimeout`. A producer that would rather skip data than wait
/// (live frames, where only the latest matters) uses `writeIfRoom`. Server shutdown past its deadline
/// shows up as cancellation of the task running the stream (`Task.isCancelled`,
/// `CancellationError` from `Task.sleep`); writes still work then, so the stream can send a
/// final event and return, which sends the terminating chunk.
public struct ResponseBodyWriter: Sendable {
    let sink: any ResponseBodySink

    init(sink: any ResponseBodySink) {
        self.sink = sink
    }

    /// Sends `bytes` as one chunk (empty writes are skipped: an empty chunk would end the body).
    public func write(_ bytes: [UInt8]) async throws(ResponseWriteError) {
        guard !bytes.isEmpty else { return }
        try await sink.writeBody(bytes)
    }

    /// Sends `bytes` as one chunk only if the connection's queue has room for them right now
    /// (queued plus these at most `maxBufferedResponseBytes`, or the queue empty); otherwise sends
    /// nothing and returns false, so the caller can drop them. Never suspends for the client.
    public func writeIfRoom(_ bytes: [UInt8]) async throws(ResponseWriteError) -> Bool {
        guard !bytes.isEmpty else { return true }
        return try await sink.writeBodyIfRoom(bytes)
    }

    /// Sends `text` as UTF-8.
    public func write(_ text: String) async throws(ResponseWriteError) {
        try await write(Array(text.utf8))
    }

    /// False once the client is gone; writes would throw `.clientDisconnected`.
    public var isClientConnected: Bool { sink.isClientConnected }
}
