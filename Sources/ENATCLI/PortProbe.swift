import Glibc

/// Checks, before the models load (which can take a while), that `enat serve` will be able to
/// bind its address: a port in use then fails at once and says so, not after loading.
enum PortProbe {
    /// nil when `host:port` can be bound now, else why not, in a person's words.
    static func problem(host: String, port: Int) -> String? {
        guard port != 0 else { return nil }
        let isIPv6 = host.contains(":")
        let fd = socket(isIPv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }  // The real bind will report it.
        defer { close(fd) }
        var one: Int32 = 1
        // As the server sets it: connections of a previous run in TIME_WAIT do not count as "in use".
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let result: Int32
        if isIPv6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = UInt16(port).bigEndian
            guard inet_pton(AF_INET6, host, &address.sin6_addr) == 1 else { return "'\(host)' is not an IP address" }
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
                return "'\(host)' is not an IP address (use 127.0.0.1 for this machine only, 0.0.0.0 for every interface)"
            }
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        guard result != 0 else { return nil }
        switch errno {
        case EADDRINUSE:
            return "port \(port) is already in use on \(host) (another server running? pick another with --port, or --port 0 for any free port)"
        case EACCES: return "no permission to bind port \(port) (ports below 1024 need privileges; pick another with --port)"
        case EADDRNOTAVAIL: return "\(host) is not an address of this machine"
        default: return String(cString: strerror(errno))
        }
    }
}
