/// Levenshtein distance, for "did you mean" hints (class names, configuration keys).
public enum EditDistance {
    /// Insertions, deletions and substitutions that turn `a` into `b`.
    public static func between(_ a: [Character], _ b: [Character]) -> Int {
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    /// The candidates closest to `text` (case-insensitive), nearest first; only those within a
    /// third of their length (at least 2 edits) qualify, so unrelated text gets no suggestion.
    /// A candidate that starts with the text (`max_batch` for `max_batch_size`) also qualifies.
    public static func closest(to text: String, in candidates: [String], limit: Int = 3) -> [String] {
        let query = Array(text.lowercased())
        guard !query.isEmpty else { return [] }
        let scored = candidates.compactMap { name -> (distance: Int, name: String)? in
            let candidate = Array(name.lowercased())
            let distance = between(query, candidate)
            if distance <= max(2, candidate.count / 3) { return (distance, name) }
            if query.count >= 3, candidate.starts(with: query) { return (distance, name) }
            return nil
        }
        return scored.sorted { ($0.distance, $0.name) < ($1.distance, $1.name) }.prefix(limit).map(\.name)
    }
}
