/// The syntax of a Host field value (RFC 9112 §3.2, RFC 3986 §3.2.2):
/// `uri-host [ ":" port ]`, where uri-host is an IP-literal in brackets, an IPv4 address or a
/// reg-name. An empty value is valid (a request whose target has no authority may send it).
enum HostValidation {
    static func isValid<Bytes: Collection<UInt8>>(_ value: Bytes) -> Bool {
        let bytes = Array(value)
        var index = 0
        if bytes.first == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")), close > 1 else { return false }
            guard bytes[1..<close].allSatisfy(isIPLiteralByte) else { return false }
            index = close + 1
        } else {
            while index < bytes.count, bytes[index] != UInt8(ascii: ":") {
                if bytes[index] == UInt8(ascii: "%") {
                    guard index + 2 < bytes.count, HTTPSyntax.hexValue(bytes[index + 1]) != nil,
                        HTTPSyntax.hexValue(bytes[index + 2]) != nil
                    else { return false }
                    index += 3
                    continue
                }
                guard isRegNameByte(bytes[index]) else { return false }
                index += 1
            }
        }
        guard index < bytes.count else { return true }
        // ":" port, where port = *DIGIT (possibly empty) and short enough to mean a real port.
        guard bytes[index] == UInt8(ascii: ":") else { return false }
        let port = bytes[(index + 1)...]
        return port.count <= 5 && port.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    /// unreserved / sub-delims (pct-encoded is handled by the caller).
    private static func isRegNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default:
            "-._~!$&'()*+,;=".utf8.contains(byte)
        }
    }

    /// IPv6address / IPvFuture inside brackets: hex digits, colons, dots, and IPvFuture's "v" and sub-delims.
    private static func isIPLiteralByte(_ byte: UInt8) -> Bool {
        HTTPSyntax.hexValue(byte) != nil || isRegNameByte(byte) || byte == UInt8(ascii: ":")
    }
}
