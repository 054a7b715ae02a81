import Foundation
import HTTPServer

/// The scheme and host of links the API hands out (`response_format=url`). `Forwarded` and
/// `X-Forwarded-Proto`/`-Host` are honoured only from configured trusted proxies (anyone else
/// could point the links anywhere); a host is used only when it is a plain `host[:port]`, so a
/// forged `Host` cannot inject text into the link.
struct PublicBaseURL {
    let trustedProxies: [String]

    func base(for request: HTTPRequest, remoteAddress: String) -> String {
        var scheme = "http"
        var host: String?
        if trustedProxies.contains(Self.peerAddress(remoteAddress)) {
            if let forwarded = request.headers["Forwarded"] {
                // The first element is the one the client-facing proxy wrote.
                let first = forwarded.split(separator: ",").first.map(String.init) ?? ""
                for pair in first.split(separator: ";") {
                    let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                    guard parts.count == 2 else { continue }
                    let value = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                    switch parts[0].lowercased() {
                    case "proto": scheme = value.lowercased()
                    case "host": host = value
                    default: break
                    }
                }
            } else {
                if let proto = request.headers["X-Forwarded-Proto"]?.split(separator: ",").first {
                    scheme = proto.trimmingCharacters(in: .whitespaces).lowercased()
                }
                host = request.headers["X-Forwarded-Host"]?.split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) }
            }
        }
        if !["http", "https"].contains(scheme) { scheme = "http" }
        if let candidate = host, !Self.isPlainHost(candidate) { host = nil }
        if host == nil, let header = request.headers["Host"], Self.isPlainHost(header) { host = header }
        return "\(scheme)://\(host ?? "localhost")"
    }

    /// The address part of `host:port` (IPv6 addresses contain colons, so the last one splits).
    static func peerAddress(_ remoteAddress: String) -> String {
        guard let colon = remoteAddress.lastIndex(of: ":") else { return remoteAddress }
        return String(remoteAddress[..<colon])
    }

    /// A DNS name or IPv4 address, or a bracketed IPv6 address, with an optional port.
    static func isPlainHost(_ text: String) -> Bool {
        guard !text.isEmpty, text.count <= 255 else { return false }
        var name = Substring(text)
        if name.hasPrefix("[") {
            guard let close = name.firstIndex(of: "]") else { return false }
            let inner = name[name.index(after: name.startIndex)..<close]
            guard !inner.isEmpty, inner.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return false }
            name = name[name.index(after: close)...]
            if name.isEmpty { return true }
            guard name.hasPrefix(":") else { return false }
            return isPort(name.dropFirst())
        }
        if let colon = name.lastIndex(of: ":") {
            guard isPort(name[name.index(after: colon)...]) else { return false }
            name = name[..<colon]
        }
        return !name.isEmpty && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == ".") }
    }

    private static func isPort(_ text: Substring) -> Bool {
        (1...5).contains(text.count) && text.allSatisfy { $0.isASCII && $0.isNumber }
    }
}

extension ImageAPI {
    func publicBaseURL(_ request: HTTPRequest, context: RequestContext) -> String {
        PublicBaseURL(trustedProxies: configuration.trustedProxies).base(for: request, remoteAddress: context.remoteAddress)
    }
}
