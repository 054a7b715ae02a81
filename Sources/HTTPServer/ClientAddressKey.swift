import Glibc

/// What the per-address connection limit counts a client by. An IPv4 address is one client. An
/// IPv6 client counts by its /64 prefix: a single subscriber usually holds a whole /64 and could
/// otherwise open each connection from a fresh address. IPv4-mapped IPv6 (`::ffff:a.b.c.d`, from a
/// dual-stack listener) counts as the IPv4 address it carries.
enum ClientAddressKey {
    static func of(host: String) -> String {
        var address = in6_addr()
        guard host.contains(":"), inet_pton(AF_INET6, host, &address) == 1 else { return host }
        var bytes = withUnsafeBytes(of: &address) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
            return bytes[12...].map(String.init).joined(separator: ".")
        }
        for index in 8..<16 { bytes[index] = 0 }
        withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: bytes) }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        guard inet_ntop(AF_INET6, &address, &text, socklen_t(text.count)) != nil else { return host }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) + "/64"
    }
}
