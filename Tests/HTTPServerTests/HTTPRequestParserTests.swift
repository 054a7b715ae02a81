import XCTest

@testable import HTTPServer

final class HTTPRequestParserTests: XCTestCase {
    private func head(_ outcome: ParseOutcome, _ index: Int = 0, file: StaticString = #filePath, line: UInt = #line) -> HTTPRequestHead? {
        let heads = outcome.events.compactMap { event -> HTTPRequestHead? in
            if case .head(let head) = event { return head } else { return nil }
        }
        guard index < heads.count else {
            XCTFail("no head \(index) in \(outcome)", file: file, line: line)
            return nil
        }
        return heads[index]
    }

    func testSimpleGet() throws {
        let outcome = ParserVerifier.verify("GET /v1/images?n=2&prompt=a%20cat+dog HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nx-a:  2 \r\n\r\n")
        XCTAssertNil(outcome.error)
        XCTAssertEqual(outcome.events.count, 2)
        let head = try XCTUnwrap(head(outcome))
        XCTAssertEqual(head.method, .get)
        XCTAssertEqual(head.target, "/v1/images?n=2&prompt=a%20cat+dog")
        XCTAssertEqual(head.path, "/v1/images")
        XCTAssertEqual(head.queryItems, [QueryItem(name: "n", value: "2"), QueryItem(name: "prompt", value: "a cat dog")])
        XCTAssertEqual(head.version, .http1_1)
        XCTAssertEqual(head.headers.values(for: "x-a"), ["1", "2"])
        XCTAssertEqual(head.headers["HOST"], "x")
        XCTAssertTrue(head.keepAlive)
        XCTAssertEqual(head.framing, .none)
        XCTAssertEqual(outcome.events.last, .end(trailers: [:]))
    }

    func testContentLengthBody() throws {
        let outcome = ParserVerifier.verify("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world")
        XCTAssertNil(outcome.error)
        XCTAssertEqual(try XCTUnwrap(head(outcome)).framing, .contentLength(11))
        XCTAssertEqual(Array(outcome.events.dropFirst()), [.body(Array("hello world".utf8)), .end(trailers: [:])])
    }

    func testChunkedBodyWithExtensionsAndTrailers() throws {
        let input =
            "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;name=value;flag\r\nhello\r\n"
            + "6 ; q=\"a \\\"quoted\\\" ext\"\r\n world\r\n"
            + "A\r\n0123456789\r\n"
            + "0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n"
        let outcome = ParserVerifier.verify(input)
        XCTAssertNil(outcome.error)
        XCTAssertEqual(try XCTUnwrap(head(outcome)).framing, .chunked)
        XCTAssertEqual(
            Array(outcome.events.dropFirst()),
            [.body(Array("hello world0123456789".utf8)), .end(trailers: ["X-Checksum": "abc", "X-Other": "1"])])
    }

    func testPipelinedRequestsComeOutInOrder() throws {
        let input =
            "GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"
            + "POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
            + "POST /3 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n"
            + "GET /4 HTTP/1.0\r\n\r\n"
        let outcome = ParserVerifier.verify(input)
        XCTAssertNil(outcome.error)
        XCTAssertEqual((0..<4).compactMap { head(outcome, $0)?.path }, ["/1", "/2", "/3", "/4"])
        XCTAssertEqual(outcome.events.filter { if case .end = $0 { true } else { false } }.count, 4)
        XCTAssertEqual(outcome.events[3], .body(Array("abc".utf8)))
        XCTAssertEqual(outcome.events[6], .body(Array("z".utf8)))
    }

    func testKeepAliveRules() throws {
        XCTAssertEqual(head(ParserVerifier.verify("GET / HTTP/1.0\r\n\r\n"))?.keepAlive, false)
        XCTAssertEqual(head(ParserVerifier.verify("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"))?.keepAlive, true)
        XCTAssertEqual(head(ParserVerifier.verify("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))?.keepAlive, true)
        XCTAssertEqual(head(ParserVerifier.verify("GET / HTTP/1.1\r\nHost: x\r\nConnection: foo, close\r\n\r\n"))?.keepAlive, false)
    }

    func testExpectContinue() throws {
        let outcome = ParserVerifier.verify("POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\n")
        XCTAssertEqual(try XCTUnwrap(head(outcome)).expectsContinue, true)
        XCTAssertEqual(outcome.events.count, 1, "the body has not arrived yet")
        // HTTP/1.0 clients' expectations must be ignored.
        let old = ParserVerifier.verify("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n")
        XCTAssertEqual(try XCTUnwrap(head(old)).expectsContinue, false)
    }

    func testVersions() throws {
        XCTAssertEqual(head(ParserVerifier.verify("GET / HTTP/1.0\r\n\r\n"))?.version, .http1_0)
        // A higher 1.x minor version is served as 1.1 (RFC 9110 §2.5).
        XCTAssertEqual(head(ParserVerifier.verify("GET / HTTP/1.2\r\nHost: x\r\n\r\n"))?.version, .http1_1)
    }

    func testLeadingEmptyLinesAreIgnored() throws {
        XCTAssertEqual(head(ParserVerifier.verify("\r\n\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n"))?.path, "/a")
    }

    func testAbsoluteFormAndAsteriskTargets() throws {
        XCTAssertEqual(head(ParserVerifier.verify("GET http://example.com/a/b?x=1 HTTP/1.1\r\nHost: x\r\n\r\n"))?.path, "/a/b")
        XCTAssertEqual(head(ParserVerifier.verify("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"))?.path, "*")
    }

    func testValidHostValuesAreAccepted() throws {
        for host in ["localhost", "example.com:8080", "127.0.0.1", "[::1]:443", "[v1.fe]", "a-b_c~d.e", "%41b", "x:", ""] {
            let outcome = ParserVerifier.verify("GET / HTTP/1.1\r\nHost: \(host)\r\n\r\n")
            XCTAssertNil(outcome.error, host)
            XCTAssertEqual(head(outcome)?.headers["host"], host)
        }
    }

    func testLimitsAtTheBoundaryAreAcceptedAndOneLessFails() throws {
        let target = "/" + String(repeating: "a", count: 20)
        let input = "GET \(target) HTTP/1.1\r\nHost: x\r\nA: 0123456789012\r\nContent-Length: 5\r\n\r\n12345"
        var exact = HTTPServerConfiguration.Limits()
        exact.maxRequestLineBytes = "GET \(target) HTTP/1.1".utf8.count
        exact.maxHeaderBytes = "Host: x\r\nA: 0123456789012\r\nContent-Length: 5\r\n".utf8.count
        exact.maxHeaderCount = 3
        exact.maxBodyBytes = 5
        let fits = ParserVerifier.verify(input, limits: exact)
        XCTAssertNil(fits.error)
        XCTAssertEqual(fits.events.count, 3)

        var limits = exact
        limits.maxRequestLineBytes -= 1
        XCTAssertEqual(ParserVerifier.verify(input, limits: limits).error, .requestLineTooLong)
        limits = exact
        limits.maxHeaderBytes -= 1
        XCTAssertEqual(ParserVerifier.verify(input, limits: limits).error, .headerSectionTooLarge)
        limits = exact
        limits.maxHeaderCount -= 1
        XCTAssertEqual(ParserVerifier.verify(input, limits: limits).error, .tooManyHeaderFields)
        limits = exact
        limits.maxBodyBytes -= 1
        XCTAssertEqual(ParserVerifier.verify(input, limits: limits).error, .bodyTooLarge)
    }

    func testPathsCanHaveTheirOwnBodyLimit() {
        var limits = HTTPServerConfiguration.Limits()
        limits.maxBodyBytes = 10
        limits.maxBodyBytesByPath = ["/upload": 20]
        func post(_ target: String, _ length: Int, chunked: Bool = false) -> HTTPRequestError? {
            let body = String(repeating: "b", count: length)
            let framing =
                chunked
                ? "Transfer-Encoding: chunked\r\n\r\n\(String(length, radix: 16))\r\n\(body)\r\n0\r\n\r\n"
                : "Content-Length: \(length)\r\n\r\n\(body)"
            return ParserVerifier.verify("POST \(target) HTTP/1.1\r\nHost: x\r\n" + framing, limits: limits).error
        }
        XCTAssertNil(post("/upload", 20))
        XCTAssertNil(post("/upload?x=1", 20, chunked: true))
        XCTAssertEqual(post("/upload", 21), .bodyTooLarge)
        XCTAssertEqual(post("/upload", 21, chunked: true), .bodyTooLarge)
        XCTAssertEqual(post("/other", 11), .bodyTooLarge)
        XCTAssertEqual(post("/upload/more", 11), .bodyTooLarge, "exact paths only")
        XCTAssertNil(post("/other", 10))
    }

    /// Each malformed request, with the error (and so the status) it must produce.
    static let malformed: [(name: String, input: String, error: HTTPRequestError, status: Int)] = [
        ("request line too long", "GET /\(String(repeating: "a", count: 8200)) HTTP/1.1\r\nHost: x\r\n\r\n", .requestLineTooLong, 414),
        ("request line too long, no LF yet", "GET /\(String(repeating: "a", count: 8300))", .requestLineTooLong, 414),
        (
            "header section too large", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "b", count: 17000))\r\n\r\n", .headerSectionTooLarge,
            431
        ),
        (
            "header section too large, many fields",
            "GET / HTTP/1.1\r\nHost: x\r\n" + (0..<90).map { "X-\($0): \(String(repeating: "v", count: 200))\r\n" }.joined() + "\r\n",
            .headerSectionTooLarge, 431
        ),
        ("too many header fields", "GET / HTTP/1.1\r\nHost: x\r\n" + (0..<101).map { "X-\($0): v\r\n" }.joined() + "\r\n", .tooManyHeaderFields, 431),
        ("body too large by content-length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1048577\r\n\r\n", .bodyTooLarge, 413),
        (
            "body too large by chunks",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n80000\r\n" + String(repeating: "z", count: 0x80000) + "\r\n80001\r\n",
            .bodyTooLarge, 413
        ),
        (
            "content-length with transfer-encoding", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            .contentLengthWithTransferEncoding, 400
        ),
        ("duplicate content-length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", .duplicateContentLength, 400),
        ("content-length list", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\n\r\nabc", .duplicateContentLength, 400),
        ("negative content-length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -3\r\n\r\n", .invalidContentLength, 400),
        ("signed content-length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\n", .invalidContentLength, 400),
        ("hex content-length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x3\r\n\r\n", .invalidContentLength, 400),
        ("huge content-length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", .invalidContentLength, 400),
        ("empty content-length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n", .invalidContentLength, 400),
        ("obs-fold", "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  continued\r\n\r\n", .obsoleteLineFolding, 400),
        ("obs-fold with tab", "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\tcontinued\r\n\r\n", .obsoleteLineFolding, 400),
        ("bare LF in request line", "GET / HTTP/1.1\nHost: x\r\n\r\n", .bareLineFeed, 400),
        ("bare LF in headers", "GET / HTTP/1.1\r\nHost: x\n\r\n", .bareLineFeed, 400),
        ("bare LF ending the head", "GET / HTTP/1.1\r\nHost: x\r\n\n", .bareLineFeed, 400),
        ("bare CR in header value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n", .invalidHeaderValue, 400),
        ("NUL in header value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\u{0}b\r\n\r\n", .invalidHeaderValue, 400),
        ("whitespace before colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", .whitespaceBeforeColon, 400),
        ("tab before colon", "GET / HTTP/1.1\r\nHost\t: x\r\n\r\n", .whitespaceBeforeColon, 400),
        ("invalid token char in header name", "GET / HTTP/1.1\r\nHost: x\r\nX(A): 1\r\n\r\n", .invalidHeaderName, 400),
        ("empty header name", "GET / HTTP/1.1\r\nHost: x\r\n: 1\r\n\r\n", .invalidHeaderName, 400),
        ("header without colon", "GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", .missingColon, 400),
        ("invalid token char in method", "G(T / HTTP/1.1\r\nHost: x\r\n\r\n", .invalidMethod, 400),
        ("double space in request line", "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", .malformedRequestLine, 400),
        ("missing version", "GET /\r\nHost: x\r\n\r\n", .malformedRequestLine, 400),
        ("bad version", "GET / HTTP/1.x\r\nHost: x\r\n\r\n", .invalidVersion, 400),
        ("lowercase version", "GET / http/1.1\r\nHost: x\r\n\r\n", .invalidVersion, 400),
        ("two-digit version", "GET / HTTP/11.1\r\nHost: x\r\n\r\n", .invalidVersion, 400),
        ("HTTP/2.0", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", .unsupportedVersion, 505),
        ("HTTP/3.1", "GET / HTTP/3.1\r\nHost: x\r\n\r\n", .unsupportedVersion, 505),
        ("HTTP/0.9", "GET / HTTP/0.9\r\n\r\n", .unsupportedVersion, 505),
        ("target without slash", "GET abc HTTP/1.1\r\nHost: x\r\n\r\n", .invalidTarget, 400),
        ("broken percent escape", "GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\n", .invalidTarget, 400),
        ("percent escape of invalid UTF-8", "GET /a%ff HTTP/1.1\r\nHost: x\r\n\r\n", .invalidTarget, 400),
        ("asterisk outside OPTIONS", "GET * HTTP/1.1\r\nHost: x\r\n\r\n", .invalidTarget, 400),
        ("missing host", "GET / HTTP/1.1\r\n\r\n", .missingHost, 400),
        ("duplicate host", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", .duplicateHost, 400),
        // RFC 9112 §6.3: without chunked as the final coding the body cannot be delimited: 400.
        ("gzip transfer-encoding", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", .invalidTransferEncoding, 400),
        ("chunked not last", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", .invalidTransferEncoding, 400),
        ("identity transfer-encoding", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n", .invalidTransferEncoding, 400),
        // Chunked last but a coding we do not decode before it: 501 (RFC 9112 §6.1).
        ("gzip then chunked", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", .unsupportedTransferEncoding, 501),
        ("CONNECT", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", .methodNotImplemented, 501),
        ("host with space", "GET / HTTP/1.1\r\nHost: bad host\r\n\r\n", .invalidHost, 400),
        ("host with slash", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", .invalidHost, 400),
        ("host with user info", "GET / HTTP/1.1\r\nHost: user@a\r\n\r\n", .invalidHost, 400),
        ("host with letters in port", "GET / HTTP/1.1\r\nHost: a:8o\r\n\r\n", .invalidHost, 400),
        ("host with broken escape", "GET / HTTP/1.1\r\nHost: a%g1\r\n\r\n", .invalidHost, 400),
        ("host with unclosed IPv6 literal", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", .invalidHost, 400),
        (
            "chunked twice", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
            .invalidTransferEncoding, 400
        ),
        ("empty transfer coding", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ,chunked\r\n\r\n", .invalidTransferEncoding, 400),
        ("transfer-encoding in HTTP/1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", .transferEncodingInHTTP10, 400),
        ("bad chunk size", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", .invalidChunk, 400),
        ("empty chunk size", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", .invalidChunk, 400),
        ("space in chunk size", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1 0\r\n", .invalidChunk, 400),
        ("bad chunk extension", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;=x\r\n", .invalidChunk, 400),
        ("unterminated quoted extension", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;a=\"x\r\n", .invalidChunk, 400),
        ("chunk data without CRLF", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n", .invalidChunk, 400),
        ("chunk data with bare LF", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\n0\r\n\r\n", .invalidChunk, 400),
        ("bare LF after chunk size", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\na\r\n", .bareLineFeed, 400),
        (
            "chunk size line too long",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;" + String(repeating: "a", count: 5000) + "\r\n", .invalidChunk, 400
        ),
        (
            "obs-fold in trailers", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nA: 1\r\n b\r\n\r\n", .obsoleteLineFolding,
            400
        ),
        ("unsupported expectation", "POST / HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 0\r\n\r\n", .unsupportedExpectation, 417),
        ("too many empty lines", "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", .malformedRequestLine, 400),
    ]

    func testMalformedRequestsTable() {
        for testCase in Self.malformed {
            // Large inputs get fewer random runs: byte-by-byte already covers every split point.
            let runs = testCase.input.utf8.count > 10_000 ? 3 : 25
            let outcome = ParserVerifier.verify(testCase.input, randomRuns: runs)
            XCTAssertEqual(outcome.error, testCase.error, testCase.name)
            XCTAssertEqual(outcome.error?.status.code, testCase.status, testCase.name)
        }
    }

    func testBodyTooLargeIsDecidedBeforeTheBody() {
        var parser = HTTPRequestParser()
        parser.append(Array("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n".utf8))
        XCTAssertThrowsError(try parser.next()) { XCTAssertEqual($0 as? HTTPRequestError, .bodyTooLarge) }
    }

    func testFailedParserStaysFailed() {
        var parser = HTTPRequestParser()
        parser.append(Array("GET / HTTP/9.9\r\n".utf8))
        XCTAssertThrowsError(try parser.next())
        parser.append(Array("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        XCTAssertThrowsError(try parser.next()) { XCTAssertEqual($0 as? HTTPRequestError, .unsupportedVersion) }
    }

    func testPartialRequestTracking() throws {
        var parser = HTTPRequestParser()
        XCTAssertFalse(parser.hasPartialRequest)
        parser.append(Array("GE".utf8))
        XCTAssertNil(try parser.next())
        XCTAssertTrue(parser.hasPartialRequest)
        parser.append(Array("T / HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        XCTAssertNotNil(try parser.next())
        XCTAssertEqual(try parser.next(), .end(trailers: [:]))
        XCTAssertFalse(parser.hasPartialRequest)
        XCTAssertNil(try parser.next())
    }

    func testRandomGarbageNeverCrashes() {
        var generator = SplitMix64(seed: 42)
        let alphabet = Array("GET POST / HTTP/1.1\r\n:;Host chunked Transfer-Encoding Content-Length 0123456789abcdef \t\u{0}\u{7f}".utf8)
        for _ in 0..<300 {
            let length = Int.random(in: 0...300, using: &generator)
            let input = (0..<length).map { _ -> UInt8 in
                Bool.random(using: &generator) ? alphabet.randomElement(using: &generator)! : UInt8.random(in: 0...255, using: &generator)
            }
            var prefix = Array("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
            if Bool.random(using: &generator) { prefix = [] }
            _ = ParserVerifier.verify(prefix + input, randomRuns: 3)
        }
    }
}
