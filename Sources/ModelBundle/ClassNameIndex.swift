/// Finds a class label from what a person types: the label itself ("207"), or a class name or
/// any of its comma-separated synonyms, ignoring case and extra whitespace ("Golden  Retriever").
///
/// Names that differ only in case are told apart by exact case first (ImageNet's "Cardigan",
/// the corgi, is 264; "cardigan", the sweater, is 474); otherwise a name that two classes share
/// resolves to the lower label. The number always reaches either.
public struct ClassNameIndex: Sendable {
    public let classCount: Int
    /// Keyed by the name with its case kept, whitespace normalised.
    private let exact: [String: Int]
    /// Keyed by the lower-cased name.
    private let folded: [String: Int]
    /// Every name and synonym as written (whitespace normalised), for suggestions.
    private let names: [String]

    public init(names: [String]) {
        classCount = names.count
        var exact: [String: Int] = [:], folded: [String: Int] = [:], all: [String] = []
        for (label, entry) in names.enumerated() {
            for name in [Substring(entry)] + entry.split(separator: ",") {
                let key = Self.collapseWhitespace(name)
                guard !key.isEmpty else { continue }
                if exact[key] == nil { exact[key] = label }
                if folded[key.lowercased()] == nil { all.append(key) }
                if folded[key.lowercased()] == nil { folded[key.lowercased()] = label }
            }
        }
        self.exact = exact
        self.folded = folded
        self.names = all
    }

    /// The names closest to `text` by edit distance, nearest first, for a "did you mean" hint.
    public func suggestions(for text: some StringProtocol, limit: Int = 3) -> [String] {
        EditDistance.closest(to: Self.collapseWhitespace(text), in: names, limit: limit)
    }

    /// The label for `text`, or nil when it names no class.
    public func label(for text: some StringProtocol) -> Int? {
        let trimmed = String(text).trimmingWhitespace()
        if !trimmed.isEmpty, trimmed.allSatisfy(\.isASCII), trimmed.allSatisfy(\.isNumber) {
            // Digits only: a label, never a name (no class is called "207").
            guard trimmed.count <= 9, let label = Int(trimmed), label < classCount else { return nil }
            return label
        }
        let key = Self.collapseWhitespace(trimmed)
        return exact[key] ?? folded[key.lowercased()]
    }

    /// Words separated by single spaces.
    static func collapseWhitespace(_ text: some StringProtocol) -> String {
        text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}
