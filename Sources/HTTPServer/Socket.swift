import Glibc

/// Thin wrappers over the socket system calls the server needs. Each one turns a failing
/// call into a typed `SocketError` (or an `IOResult`) where it happens, so callers never
/// look at `errno` themselves.
enum Socket {
    /// The outcome of one non-blocking read or write.
    enum IOResult: Equatable {
        case transferred(Int)
        case wouldBlock
        /// Reads only: the peer sent FIN (read returned 0). It may have closed only its write side
        /// (`shutdown(SHUT_WR)`) and still wait for our answer, so this is not yet a disconnect.
        case endOfStream
        /// The connection is gone (ECONNRESET, EPIPE, ...).
        case closed
    }

    /// Creates a non-blocking listening TCP socket bound to `host:port`; returns it with the bound port.
    static func listen(host: String, port: Int, backlog: Int32) throws(SocketError) -> (fd: Int32, port: Int) {
        guard (0...65535).contains(port) else { throw SocketError("bind", code: EINVAL) }
        let isIPv6 = host.contains(":")
        let family = isIPv6 ? AF_INET6 : AF_INET
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketError.current("socket") }
        do throws(SocketError) {
            var one: Int32 = 1
            // Lets a restarted server bind while old connections sit in TIME_WAIT.
            if setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) != 0 {
                throw SocketError.current("setsockopt(SO_REUSEADDR)")
            }
            if isIPv6 {
                var address = sockaddr_in6()
                address.sin6_family = sa_family_t(AF_INET6)
                address.sin6_port = UInt16(port).bigEndian
                guard inet_pton(AF_INET6, host, &address.sin6_addr) == 1 else { throw SocketError("inet_pton", code: EINVAL) }
                let result = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                    }
                }
                if result != 0 { throw SocketError.current("bind") }
            } else {
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = UInt16(port).bigEndian
                guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { throw SocketError("inet_pton", code: EINVAL) }
                let result = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
                if result != 0 { throw SocketError.current("bind") }
            }
            if Glibc.listen(fd, backlog) != 0 { throw SocketError.current("listen") }
            return (fd, try localPort(fd))
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    /// The port a socket is bound to (the kernel's choice when we asked for port 0).
    static func localPort(_ fd: Int32) throws(SocketError) -> Int {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0 else { throw SocketError.current("getsockname") }
        return describe(storage).port
    }

    /// The outcome of one `accept` on a non-blocking listener.
    enum AcceptResult {
        /// `remoteHost` is the peer's address alone (no port), what per-address limits count.
        case accepted(fd: Int32, remoteHost: String, remoteAddress: String)
        case wouldBlock
        /// A failure worth retrying later (EMFILE, ECONNABORTED, ...); the listener stays usable.
        case failed(SocketError)
    }

    static func accept(_ listener: Int32, sendBufferBytes: Int?) -> AcceptResult {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let fd = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.accept(listener, $0, &length) }
        }
        if fd < 0 {
            let error = SocketError.current("accept")
            return error.code == EAGAIN || error.code == EWOULDBLOCK ? .wouldBlock : .failed(error)
        }
        // accept4 is not exported by the Glibc module, so set the flags right after accepting.
        let flags = fcntl(fd, F_GETFL)
        if flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) != 0 {
            let error = SocketError.current("fcntl")
            Glibc.close(fd)
            return .failed(error)
        }
        var one: Int32 = 1
        // Streamed events are small and latency matters more than packet count.
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        if let sendBufferBytes {
            var size = Int32(clamping: sendBufferBytes)
            _ = setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        let peer = describe(storage)
        return .accepted(fd: fd, remoteHost: peer.host, remoteAddress: "\(peer.host):\(peer.port)")
    }

    /// One non-blocking `recv`.
    static func receive(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> IOResult {
        while true {
            let count = recv(fd, buffer.baseAddress, buffer.count, 0)
            if count > 0 { return .transferred(count) }
            if count == 0 { return .endOfStream }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            default: return .closed
            }
        }
    }

    /// One non-blocking `send`. MSG_NOSIGNAL: a peer that went away gives EPIPE, not a SIGPIPE that kills us.
    static func send(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> IOResult {
        while true {
            let count = Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            if count >= 0 { return .transferred(count) }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            default: return .closed
            }
        }
    }

    /// Half-closes: the peer reads EOF after our last byte, while we can still drain what it sends.
    static func shutdownWrite(_ fd: Int32) {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    /// True when the connection was reset or failed (POLLERR/POLLHUP), without blocking. A peer
    /// that only half-closed gives neither; one that closed fully answers our next bytes with a
    /// reset, which shows up here.
    static func hasFailed(_ fd: Int32) -> Bool {
        var descriptor = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        guard poll(&descriptor, 1, 0) > 0 else { return false }
        return descriptor.revents & Int16(POLLERR | POLLHUP) != 0
    }

    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    private static func describe(_ storage: sockaddr_storage) -> (host: String, port: Int) {
        var storage = storage
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        switch Int32(storage.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { address in
                    var raw = address.pointee.sin_addr
                    inet_ntop(AF_INET, &raw, &text, socklen_t(text.count))
                    return (cText(text), Int(UInt16(bigEndian: address.pointee.sin_port)))
                }
            }
        case AF_INET6:
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { address in
                    var raw = address.pointee.sin6_addr
                    inet_ntop(AF_INET6, &raw, &text, socklen_t(text.count))
                    return (cText(text), Int(UInt16(bigEndian: address.pointee.sin6_port)))
                }
            }
        default:
            return ("unknown", 0)
        }
    }

    private static func cText(_ text: [CChar]) -> String {
        String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
