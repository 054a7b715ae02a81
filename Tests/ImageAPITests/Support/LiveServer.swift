import Foundation
import Glibc
import HTTPServer
import ModelBundle
import Scheduler
// The shared test support (blocking, LoopbackSocket) for every file of this target.
@_exported import TestSupport
import XCTest

@testable import ImageAPI

/// A real scheduler and the API on a loopback HTTPServer, shut down after the test.
struct LiveServer {
    let api: ImageAPI
    let scheduler: GenerationScheduler
    let server: HTTPServer
    let port: Int
}

extension XCTestCase {
    func startLiveServer(
        models: [LoadedModel]? = nil, scheduler schedulerConfiguration: SchedulerConfiguration = .init(blasThreads: 1),
        start: Bool = true, configure: (inout APIConfiguration) -> Void = { _ in }
    ) throws -> LiveServer {
        let scheduler = GenerationScheduler(models: try models ?? [TestModels.classModel()], configuration: schedulerConfiguration)
        if start { scheduler.start() }
        var configuration = APIConfiguration()
        configuration.pingInterval = .milliseconds(200)
        configure(&configuration)
        let api = ImageAPI(scheduler: scheduler, configuration: configuration)
        let server = HTTPServer(
            configuration: .init(host: "127.0.0.1", port: 0), onRejection: api.rejectionObserver, handler: api.handler)
        let port = try server.start()
        addTeardownBlock {
            blocking {
                await scheduler.drain(deadline: .now + .seconds(2))
                await server.shutdown(gracePeriod: .milliseconds(500))
            }
        }
        return LiveServer(api: api, scheduler: scheduler, server: server, port: port)
    }
}

/// A response read off the wire.
struct WireResponse {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]
    /// Everything after the head exactly as received (chunk framing included).
    var raw: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    var text: String { String(decoding: body, as: UTF8.self) }

    func json() throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(body)) as? [String: Any], "not a JSON object: \(text)")
    }

    /// `error.param` etc. of an error body.
    func error() throws -> [String: Any] {
        try XCTUnwrap(try json()["error"] as? [String: Any])
    }
}

/// A blocking raw-socket HTTP/1.1 client: one request per connection (`Connection: close`),
/// reads to EOF, de-chunks. Reads have a deadline.
final class WireClient {
    private let socket: LoopbackSocket

    var fd: Int32 { socket.fd }

    init(port: Int) throws {
        socket = try LoopbackSocket(port: port)
    }

    func send(_ method: String, _ target: String, headers: [(String, String)] = [], body: String? = nil) {
        var text = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if let body { text += "Content-Length: \(body.utf8.count)\r\n" }
        text += "\r\n" + (body ?? "")
        socket.send(Array(text.utf8))
    }

    /// Reads at most `count` bytes (waiting up to 30 s); empty at EOF or timeout.
    func read(max count: Int = 65536) -> [UInt8] {
        socket.receive(until: Date().addingTimeInterval(30), maximum: count) ?? []
    }

    /// Reads until `marker` appears in what was read so far (or EOF); returns everything read.
    func read(until marker: String, already: [UInt8] = []) -> [UInt8] {
        var data = already
        let needle = Array(marker.utf8)
        while !contains(data, needle) {
            let more = read()
            if more.isEmpty { break }
            data += more
        }
        return data
    }

    func readAll() -> [UInt8] {
        var data: [UInt8] = []
        while true {
            let more = read()
            if more.isEmpty { return data }
            data += more
        }
    }

    /// Drops the connection with a reset, as a vanished client: the server learns of it at once
    /// (a FIN alone may be a half-close by a client that still reads its answer). Connecting to
    /// AF_UNSPEC aborts a TCP socket with RST and keeps the fd, which deinit still closes.
    func reset() {
        var address = sockaddr()
        address.sa_family = sa_family_t(AF_UNSPEC)
        _ = connect(fd, &address, socklen_t(MemoryLayout<sockaddr>.size))
    }

    static func request(port: Int, _ method: String, _ target: String, headers: [(String, String)] = [], body: String? = nil) throws -> WireResponse {
        let client = try WireClient(port: port)
        var allHeaders = headers
        if body != nil, !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
            allHeaders.append(("Content-Type", "application/json"))
        }
        client.send(method, target, headers: allHeaders, body: body)
        return try parse(client.readAll())
    }

    static func parse(_ data: [UInt8]) throws -> WireResponse {
        let separator = Array("\r\n\r\n".utf8)
        guard let end = firstIndex(of: separator, in: data) else { throw NSError(domain: "no head in \(data.count) bytes", code: 0) }
        let head = String(decoding: data[0..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let status = Int(head[0].split(separator: " ")[1])!
        let headers = head.dropFirst().map { line -> (String, String) in
            let colon = line.firstIndex(of: ":")!
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let raw = Array(data[(end + 4)...])
        var response = WireResponse(status: status, headers: headers, body: raw, raw: raw)
        if response.header("Transfer-Encoding")?.lowercased() == "chunked" { response.body = dechunk(raw) }
        return response
    }

    static func dechunk(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var index = 0
        while let lineEnd = firstIndex(of: Array("\r\n".utf8), in: data, from: index) {
            let sizeText = String(decoding: data[index..<lineEnd], as: UTF8.self)
            guard let size = Int(sizeText, radix: 16), size > 0 else { break }
            let start = lineEnd + 2
            guard start + size <= data.count else { out += data[start...]; break }
            out += data[start..<(start + size)]
            index = start + size + 2
        }
        return out
    }
}

func firstIndex(of needle: [UInt8], in haystack: [UInt8], from start: Int = 0) -> Int? {
    guard needle.count <= haystack.count, start <= haystack.count - needle.count else { return nil }
    var index = start
    while index + needle.count <= haystack.count {
        if haystack[index] == needle[0], Array(haystack[index..<(index + needle.count)]) == needle { return index }
        index += 1
    }
    return nil
}

func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool { firstIndex(of: needle, in: haystack) != nil }

/// Polls until `condition` holds or `timeout` seconds pass.
func eventually(timeout: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

/// PNG signature check.
func isPNG(_ bytes: [UInt8]) -> Bool { bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) }
