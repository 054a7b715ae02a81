import Foundation
import Tensors

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
    /// The engine's precision. In bf16 a float tensor passes within `bf16RangeFraction` of
    /// the expected tensor's range (or the file's own tolerance, when that is wider).
    public let precision: ComputePrecision
    public private(set) var lines: [Line] = []

    /// bf16's tolerance: 2% of the expected values' range (the spec's goal for a
    /// reduced-precision path: logits within 2% of their range).
    public static let bf16RangeFraction = 0.02

    public init(file: String, kind: String, precision: ComputePrecision = .fp32) {
        self.file = file
        self.kind = kind
        self.precision = precision
    }

    public var passed: Bool { !lines.isEmpty && lines.allSatisfy(\.passed) }

    public mutating func compare(
        _ name: String, _ actual: some Collection<Float>, _ expected: some Collection<Float>, tolerance fp32Tolerance: Double
    ) {
        var tolerance = fp32Tolerance
        if precision == .bf16, let low = expected.min(), let high = expected.max() {
            tolerance = max(tolerance, Self.bf16RangeFraction * Double(high - low))
        }
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
        var out = "\(file) (\(kind)\(precision == .fp32 ? "" : ", \(precision)"))\n"
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
