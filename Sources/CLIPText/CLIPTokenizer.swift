// Mirrors OpenAI CLIP's `simple_tokenizer.py` and its `clip.tokenize`: clean, pre-tokenize,
// UTF-8 bytes to byte symbols, BPE; then start token, ids, end token, truncated to the context
// length keeping the end token last, padded with the end token.

/// OpenAI CLIP's byte-level BPE tokenizer. Immutable: safe to share across threads.
public struct CLIPTokenizer: Sendable {
    public let vocabulary: BPEVocabulary
    /// Ids per caption, start and end tokens included (77 for CLIP).
    public let contextLength: Int

    public init(vocabulary: BPEVocabulary, contextLength: Int = 77) {
        precondition(contextLength >= 2, "a context holds at least the start and end tokens")
        self.vocabulary = vocabulary
        self.contextLength = contextLength
    }

    /// Reads the gzipped merges file (`bpe_simple_vocab_16e6.txt.gz`).
    public init(vocabularyPath: String, contextLength: Int = 77) throws(CLIPTextError) {
        self.init(vocabulary: try BPEVocabulary(path: vocabularyPath), contextLength: contextLength)
    }

    public var startOfText: Int32 { vocabulary.startOfText }
    public var endOfText: Int32 { vocabulary.endOfText }

    /// The caption's token ids without start and end tokens and without truncation
    /// (`SimpleTokenizer.encode`).
    public func encode(_ text: String) -> [Int32] {
        var ids: [Int32] = []
        for piece in PreTokenizer.pieces(TextCleaning.cleanScalars(Array(text.unicodeScalars))) {
            // The literal special tokens map to their ids (the original's BPE cache holds them).
            if piece == PreTokenizer.specials[0] {
                ids.append(startOfText)
            } else if piece == PreTokenizer.specials[1] {
                ids.append(endOfText)
            } else {
                ids += vocabulary.encode(bytes: HTMLUnescape.string(piece).utf8)
            }
        }
        return ids
    }

    /// Exactly `contextLength` ids: start, the caption's ids, end; truncated keeping the end
    /// token last, padded with the end token.
    public func tokenize(_ text: String) -> [Int32] {
        var ids = [startOfText] + encode(text).prefix(contextLength - 2) + [endOfText]
        ids += repeatElement(endOfText, count: contextLength - ids.count)
        return ids
    }

    /// Several captions, `[captions.count * contextLength]` row-major.
    public func tokenize(_ texts: [String]) -> [Int32] { texts.flatMap(tokenize) }
}
