/// Per-request information for handlers beyond the request itself.
public struct RequestContext: Sendable {
    /// The request's id: the client's `X-Request-Id` if it was sane, else a generated one.
    /// It is echoed in the response's `X-Request-Id` header.
    public let requestID: String
    /// The peer as `host:port`.
    public let remoteAddress: String
    private let presence: ClientPresence
    private let drainingFlag: @Sendable () -> Bool

    init(requestID: String, remoteAddress: String, presence: ClientPresence, isDraining: @escaping @Sendable () -> Bool) {
        self.requestID = requestID
        self.remoteAddress = remoteAddress
        self.presence = presence
        self.drainingFlag = isDraining
    }

    /// A context not tied to any connection (always connected, never draining), for unit tests of handlers.
    public init(requestID: String = "test", remoteAddress: String = "127.0.0.1:0") {
        self.init(requestID: requestID, remoteAddress: remoteAddress, presence: ClientPresence(), isDraining: { false })
    }

    /// False once the client has gone away (connection closed or reset, or dropped by the server).
    /// Long work for this request should stop then.
    public var isClientConnected: Bool { presence.isConnected }

    /// Runs `action` once, on an arbitrary thread, when the client disconnects before the response
    /// is complete; immediately if that already happened. Not called after a completed response.
    public func onClientDisconnect(_ action: @escaping @Sendable () -> Void) {
        presence.onDisconnect(action)
    }

    /// True once the server is shutting down.
    public var isServerDraining: Bool { drainingFlag() }
}
