import XCTest

@testable import HTTPServer

/// The outcome of feeding a parser: its events (adjacent body pieces merged, since how a body is
/// cut depends on the split) and the error it ended with, if any.
struct ParseOutcome: Equatable {
    var events: [HTTPParserEvent] = []
    var error: HTTPRequestError?
}

/// Like swift-nio's ByteToMessageDecoderVerifier: the same input must give the same outcome fed
/// all at once, byte by byte, and in many random splits.
enum ParserVerifier {
    static func parse(_ input: [UInt8], splits: [Int], limits: HTTPServerConfiguration.Limits) -> ParseOutcome {
        var parser = HTTPRequestParser(limits: limits)
        var outcome = ParseOutcome()
        var start = 0
        var cuts = splits.filter { $0 > 0 && $0 < input.count }.sorted()
        cuts.append(input.count)
        for cut in cuts where cut >= start {
            parser.append(input[start..<cut])
            start = cut
            do {
                while let event = try parser.next() { append(event, to: &outcome.events) }
            } catch {
                outcome.error = error
                return outcome
            }
        }
        return outcome
    }

    private static func append(_ event: HTTPParserEvent, to events: inout [HTTPParserEvent]) {
        if case .body(let more) = event, case .body(let previous)? = events.last {
            events[events.count - 1] = .body(previous + more)
        } else {
            events.append(event)
        }
    }

    /// Parses every way and checks all outcomes agree; returns that outcome.
    static func verify(
        _ text: String, limits: HTTPServerConfiguration.Limits = .init(), randomRuns: Int = 40,
        file: StaticString = #filePath, line: UInt = #line
    ) -> ParseOutcome {
        verify(Array(text.utf8), limits: limits, randomRuns: randomRuns, file: file, line: line)
    }

    static func verify(
        _ input: [UInt8], limits: HTTPServerConfiguration.Limits = .init(), randomRuns: Int = 40,
        file: StaticString = #filePath, line: UInt = #line
    ) -> ParseOutcome {
        let whole = parse(input, splits: [], limits: limits)
        let byteByByte = parse(input, splits: Array(0..<input.count), limits: limits)
        XCTAssertEqual(byteByByte, whole, "byte-by-byte differs from all-at-once", file: file, line: line)
        var generator = SplitMix64(seed: UInt64(input.count) &* 31 &+ 7)
        for _ in 0..<randomRuns {
            let count = Int.random(in: 1...max(1, min(12, input.count)), using: &generator)
            let splits = (0..<count).map { _ in Int.random(in: 0...input.count, using: &generator) }
            let outcome = parse(input, splits: splits, limits: limits)
            XCTAssertEqual(outcome, whole, "split at \(splits.sorted()) differs", file: file, line: line)
        }
        return whole
    }
}
