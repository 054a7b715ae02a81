import Foundation

/// The outcome of reproducing one golden file: one line per expected tensor.
public struct GoldenReport: Sendable {
    public struct Line: Sendable {
        public let name: String
        /// Max absolute error for float tensors, count of differing elements for exact ones.
        public let error: Double
        public let tolerance: Double
        public let exact: Bool
        public var passed: Bool { error <= tolerance }
    }

    public let file: String
    public let kind: String
    public private(set) var lines: [Line] = []

    public init(file: String, kind: String) {
        self.file = file
        self.kind = kind
    }

    public var passed: Bool { !lines.isEmpty && lines.allSatisfy(\.passed) }

    public mutating func compare(_ name: String, _ actual: some Collection<Float>, _ expected: some Collection<Float>, tolerance: Double) {
        var worst = actual.count == expected.count ? 0.0 : Double.infinity
        for (a, e) in zip(actual, expected) {
            let difference = Double(abs(a - e))
            // NaN anywhere is a failure, not a silent zero.
            worst = difference.isNaN ? .infinity : max(worst, difference)
        }
        lines.append(Line(name: name, error: worst, tolerance: tolerance, exact: false))
    }

    public mutating func compareExact(_ name: String, _ actual: [Int], _ expected: [Int]) {
        let mismatches = actual.count == expected.count ? zip(actual, expected).filter { $0 != $1 }.count : max(actual.count, expected.count)
        lines.append(Line(name: name, error: Double(mismatches), tolerance: 0, exact: true))
    }

    /// Human-readable lines for the CLI.
    public var text: String {
        var out = "\(file) (\(kind))\n"
        for line in lines {
            let verdict = line.passed ? "ok  " : "FAIL"
            if line.exact {
                out += "  \(verdict) \(line.name): \(Int(line.error)) mismatches (exact)\n"
            } else {
                out += "  \(verdict) \(line.name): max abs error \(formatted(line.error)) (tolerance \(formatted(line.tolerance)))\n"
            }
        }
        return out
    }

    private func formatted(_ value: Double) -> String {
        value.isFinite ? String(format: "%.3e", value) : "\(value)"
    }
}
