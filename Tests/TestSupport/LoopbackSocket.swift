import Foundation
import Glibc

/// A blocking TCP connection to 127.0.0.1, for tests that write exact bytes to a server and read
/// what comes back. Every read has a deadline; nothing waits forever. The HTTP clients of the
/// test targets build on it.
public final class LoopbackSocket {
    public let fd: Int32

    /// Connects to 127.0.0.1:`port`. `receiveBuffer` shrinks SO_RCVBUF (set before connecting, so
    /// the window stays small). `source` binds this end to another loopback address (all of 127/8
    /// is loopback), so tests can play several client addresses.
    public init(port: Int, receiveBuffer: Int? = nil, source: String? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw LoopbackSocketError(operation: "socket", code: errno) }
        if let receiveBuffer {
            var size = Int32(receiveBuffer)
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            local.sin_addr.s_addr = inet_addr(source)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if bound != 0 {
                let error = LoopbackSocketError(operation: "bind", code: errno)
                close(fd)
                throw error
            }
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if connected != 0 {
            let error = LoopbackSocketError(operation: "connect", code: errno)
            close(fd)
            throw error
        }
    }

    deinit { close(fd) }

    /// Writes everything (blocking); false if the connection failed.
    @discardableResult
    public func send(_ bytes: [UInt8]) -> Bool { Self.send(bytes, to: fd) }

    /// Blocking write of everything to `fd`; usable from another thread (it touches no state).
    @discardableResult
    public static func send(_ bytes: [UInt8], to fd: Int32) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += count
        }
        return true
    }

    /// What arrives next, at most `maximum` bytes: empty at end of stream or on an error, nil
    /// when nothing arrived before `deadline`.
    public func receive(until deadline: Date, maximum: Int = 65536) -> [UInt8]? {
        let remaining = deadline.timeIntervalSinceNow
        guard remaining > 0 else { return nil }
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, Int32(max(1, min(remaining * 1000, Double(Int32.max))))) > 0 else { return nil }
        var chunk = [UInt8](repeating: 0, count: maximum)
        let count = recv(fd, &chunk, chunk.count, 0)
        return count > 0 ? Array(chunk[0..<count]) : []
    }
}

/// A socket call of `LoopbackSocket` failed with `code` (errno).
public struct LoopbackSocketError: Error, CustomStringConvertible {
    public let operation: String
    public let code: Int32

    public var description: String { "\(operation): \(String(cString: strerror(code)))" }
}
