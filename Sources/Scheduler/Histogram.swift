/// A Prometheus-style histogram: cumulative bucket counts, a sum and a count.
public struct Histogram: Sendable, Equatable {
    /// Upper bounds of the buckets, ascending; the implicit `+Inf` bucket is `count`.
    public let upperBounds: [Double]
    /// `cumulativeCounts[i]`: observations `<= upperBounds[i]`.
    public private(set) var cumulativeCounts: [Int]
    /// Sum of all observations.
    public private(set) var sum: Double = 0
    /// Number of observations (the `+Inf` bucket).
    public private(set) var count: Int = 0

    /// `upperBounds` are sorted and deduplicated.
    public init(upperBounds: [Double]) {
        self.upperBounds = Array(Set(upperBounds)).sorted()
        cumulativeCounts = Array(repeating: 0, count: self.upperBounds.count)
    }

    public mutating func observe(_ value: Double) {
        sum += value
        count += 1
        // Bounds are few (about a dozen): a scan from the top is as cheap as a search.
        var index = upperBounds.count - 1
        while index >= 0, value <= upperBounds[index] {
            cumulativeCounts[index] += 1
            index -= 1
        }
    }

    /// Buckets for durations in seconds, 5 ms to 5 min.
    public static let secondsBounds: [Double] = [
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300,
    ]
    /// Buckets for batch sizes in samples.
    public static let batchSizeBounds: [Double] = [1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 64]
}
