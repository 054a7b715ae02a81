import CLIPText
import XCTest

final class CLIPTokenizerTests: XCTestCase {
    func tokenizer() throws -> CLIPTokenizer {
        let path = try GoldenPaths.vocabulary  // skips the test when the golden folder lacks it
        return try XCTUnwrap(SharedVocabulary.tokenizer.value, "cannot read \(path)")
    }

    /// Exact ids for the official file's captions (HTML, accents, curly quotes, emoji, digits,
    /// whitespace, contractions, a caption longer than 77 tokens, the empty caption).
    func testSharedGoldenIDs() throws {
        let tokenizer = try tokenizer()
        let golden = try CLIPGoldenCase(path: GoldenPaths.sharedCLIP)
        XCTAssertEqual(golden.captions.count, golden.batch)
        for (b, caption) in golden.captions.enumerated() {
            XCTAssertEqual(tokenizer.tokenize(caption), golden.row(b), "caption \(b): \(caption)")
        }
    }

    /// Captions the tokenizer was never tuned on (entities, widths, ligatures, Greek final
    /// sigma, CJK, ZWJ emoji, numeric references, literal special tokens, terminal escapes).
    func testUnseenFixtureIDs() throws {
        let tokenizer = try tokenizer()
        XCTAssertEqual(GoldenPaths.unseenCLIP.count, 2)
        for path in GoldenPaths.unseenCLIP {
            let golden = try CLIPGoldenCase(path: path)
            for (b, caption) in golden.captions.enumerated() {
                XCTAssertEqual(tokenizer.tokenize(caption), golden.row(b), "\(path) caption \(b): \(caption)")
            }
        }
    }

    func testLayout() throws {
        let tokenizer = try tokenizer()
        XCTAssertEqual(tokenizer.vocabulary.size, 49408)
        XCTAssertEqual(tokenizer.tokenize(""), [49406] + Array(repeating: 49407, count: 76))
        XCTAssertEqual(tokenizer.tokenize("a red circle"), [49406, 320, 736, 7117] + Array(repeating: 49407, count: 73))
        let long = tokenizer.tokenize(String(repeating: "word ", count: 100))
        XCTAssertEqual(long.count, 77)
        XCTAssertEqual(long.first, 49406)
        XCTAssertEqual(long.last, 49407)
        XCTAssertEqual(Set(long.dropFirst().dropLast()), [2653])
        XCTAssertEqual(tokenizer.encode("<|endoftext|>"), [49407])
        XCTAssertEqual(tokenizer.tokenize(["a", "b"]).count, 154)
        let short = CLIPTokenizer(vocabulary: tokenizer.vocabulary, contextLength: 4)
        XCTAssertEqual(short.tokenize("a red circle"), [49406, 320, 736, 49407])
    }

    /// Cleaning against the outputs of the original pipeline (ftfy 6.3, `html.unescape` twice,
    /// `re.sub(r"\s+", " ")`, `str.lower`), computed once in Python.
    func testCleaningMatchesPython() {
        let table: [(String, String)] = [
            ("&amp;amp;amp;amp;", "&"),
            ("x<y &amp;amp;", "x<y &"),
            ("&ampfoo; &notit; &#65 &#x41x &Amp; &#1234567890123;", "&foo; \u{ac}it; a ax &amp; \u{fffd}"),
            (
                "\u{3a3}\u{38a}\u{3a3}\u{3a5}\u{3a6}\u{39f}\u{3a3} \u{39f}\u{394}\u{39f}\u{3a3}.",
                "\u{3c3}\u{3af}\u{3c3}\u{3c5}\u{3c6}\u{3bf}\u{3c2} \u{3bf}\u{3b4}\u{3bf}\u{3c2}."
            ),
            ("\u{ff21}\u{3000}\u{ff22} \u{fb03}", "a b ffi"),
            ("a\u{85}b\u{80}c\u{91}d\u{92}", "a\u{2026}b\u{20ac}c'd'"),
            ("tab\tnew\nline\r\nx\u{1c}y", "tab new line xy"),
            ("\u{1b}[1;31mred\u{1b}[0m", "red"),
            ("\u{130}", "i\u{307}"),
            ("  \u{2003} ", ""),
            ("e\u{301}", "\u{e9}"),
        ]
        for (input, expected) in table {
            XCTAssertEqual(Array(TextCleaning.clean(input).unicodeScalars), Array(expected.unicodeScalars), "\(input.debugDescription)")
        }
    }

    func testMalformedVocabularies() {
        XCTAssertThrowsError(try BPEVocabulary(gzipped: [0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02]))
        XCTAssertThrowsError(try BPEVocabulary(gzipped: Array("not gzip".utf8)))
        XCTAssertThrowsError(try BPEVocabulary(path: "/nonexistent/vocab.txt.gz"))
    }
}
