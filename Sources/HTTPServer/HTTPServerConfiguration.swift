/// Everything that tunes the server, in one place. Defaults follow what widely deployed
/// servers use (nginx, Node's llhttp) and suit a small JSON API.
public struct HTTPServerConfiguration: Sendable {
    /// Size limits on what a client may send; each has the status the server answers with.
    public struct Limits: Sendable, Equatable {
        /// Longest request line (method, target, version; without CRLF). Beyond it: 414.
        public var maxRequestLineBytes: Int = 8 * 1024
        /// Largest header section (all field lines with their CRLFs; trailers count separately). Beyond it: 431.
        public var maxHeaderBytes: Int = 16 * 1024
        /// Most header fields in one request (and, separately, trailer fields). Beyond it: 431.
        public var maxHeaderCount: Int = 100
        /// Largest request body. Beyond it: 413, decided from Content-Length before any body byte
        /// is read, or for chunked bodies as soon as the running total exceeds it.
        public var maxBodyBytes: Int = 1024 * 1024
        /// Larger (or smaller) body limits for particular paths, e.g. an upload route; the path is
        /// the percent-decoded path without the query, matched exactly.
        public var maxBodyBytesByPath: [String: Int] = [:]
        /// Longest chunk-size line (size plus extensions). Beyond it: 400.
        public var maxChunkLineBytes: Int = 4 * 1024

        public init() {}

        /// The body limit of a request for `path`.
        public func maxBodyBytes(forPath path: String) -> Int { maxBodyBytesByPath[path] ?? maxBodyBytes }
    }

    /// Timeouts in seconds. All are enforced per connection with Dispatch timers.
    public struct Timeouts: Sendable, Equatable {
        /// Time allowed for a request head to arrive in full, counted from its first byte
        /// (from accept for a connection's first request). Beyond it: 408 and close, or a silent
        /// close when no byte of a request arrived at all.
        public var head: Double = 10
        /// Time allowed for the whole request body to arrive after the head. Beyond it: 408 and close.
        public var body: Double = 30
        /// How long a keep-alive connection may sit between requests. Beyond it: silent close.
        public var idle: Double = 60
        /// How long queued response bytes may go without any progress (a client that stopped
        /// reading a stream). Beyond it: the connection is dropped and the writer throws `.writeTimeout`.
        public var write: Double = 30
        /// After the final response on a connection, how long we keep draining (and discarding) what
        /// the client still sends before closing. Closing with unread input makes the kernel send a
        /// reset that can destroy the response before the client reads it.
        public var linger: Double = 1
        /// While a client that half-closed (sent FIN after its request) waits for a response that
        /// has not started, the server sends it an interim `100 Continue` this often (HTTP/1.1
        /// only): a client that closed completely answers it with a reset, which ends the request
        /// as a disconnect within about two intervals. Answers quicker than this send no probe.
        /// Once response bytes flow they draw that reset themselves, and it is looked for every
        /// hundredth of this interval.
        public var halfClosedProbe: Double = 0.5

        public init() {}
    }

    /// How the head, body and idle timeouts shrink as the server fills, so slow clients cannot
    /// hold the slots: below `startOccupancy` (a fraction of `maxConnections`) they apply in full;
    /// from there they shrink linearly to `floorFraction` of themselves at a full server.
    public struct DeadlineTightening: Sendable, Equatable {
        public var startOccupancy: Double = 0.5
        public var floorFraction: Double = 0.1

        public init() {}

        /// The factor to apply to a timeout when `open` of `capacity` connections are in use.
        public func scale(open: Int, capacity: Int) -> Double {
            guard capacity > 0 else { return 1 }
            let occupancy = min(1, Double(open) / Double(capacity))
            guard occupancy > startOccupancy, startOccupancy < 1 else { return 1 }
            let progress = (occupancy - startOccupancy) / (1 - startOccupancy)
            return 1 - progress * (1 - max(0, min(1, floorFraction)))
        }
    }

    /// Address to bind; IPv4 or IPv6 literal. Default: all IPv4 interfaces.
    public var host: String = "0.0.0.0"
    /// Port to bind; 0 lets the kernel pick a free one (`start()` returns it).
    public var port: Int = 8080
    /// Listen backlog.
    public var backlog: Int32 = 256
    /// Most connections served at once. Beyond it the server still accepts, answers
    /// `503 Service Unavailable` with `Retry-After`, and closes: clients get a fast, explicit
    /// answer instead of hanging in the kernel backlog.
    public var maxConnections: Int = 512
    /// Most connections one client address (IPv6: one /64 prefix) may hold at once. Beyond it that
    /// address gets `429 Too Many Requests` with `Retry-After` and a close, so no single address can
    /// take every slot. Behind a reverse proxy every client shares the proxy's address: raise it to
    /// `maxConnections` there. When the server is full, a new connection first takes the slot of
    /// the connection idle longest between keep-alive requests; only with none idle is it refused.
    public var maxConnectionsPerAddress: Int = 64
    /// Seconds advertised in `Retry-After` on those 503 and 429 answers.
    public var retryAfterSeconds: Int = 1
    /// Value of the `Server` header (unless a handler sets its own).
    public var serverName: String = "enat-serve"
    /// Response bytes a connection may queue before `ResponseBodyWriter.write` suspends.
    /// Writers resume once the queue drains below half of it, so what one connection holds is at
    /// most this plus its largest single write; a reader that takes nothing for `timeouts.write`
    /// is dropped. `ResponseBodyWriter.writeIfRoom` lets a producer drop data instead of waiting.
    public var maxBufferedResponseBytes: Int = 64 * 1024
    /// If set, `SO_SNDBUF` for accepted sockets: caps what the kernel queues per connection on top
    /// of `maxBufferedResponseBytes`. nil keeps the system's (auto-tuned) default.
    public var socketSendBufferBytes: Int? = nil
    /// After a shutdown deadline, how long cancelled streams get to send a final event and their
    /// terminating chunk before their connections are closed regardless.
    public var shutdownCancellationGrace: Double = 1
    public var limits = Limits()
    public var timeouts = Timeouts()
    public var deadlineTightening = DeadlineTightening()

    public init(host: String = "0.0.0.0", port: Int = 8080) {
        self.host = host
        self.port = port
    }
}
