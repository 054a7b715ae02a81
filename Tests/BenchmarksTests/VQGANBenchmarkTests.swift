import Benchmarks
import Foundation
import Tensors
import XCTest

/// Prints decoder timings at the released shape; runs only with `VQGAN_BENCHMARK=1`
/// (meant for `swift test -c release --filter VQGANBenchmarkTests`). Asserts nothing on time.
final class VQGANBenchmarkTests: XCTestCase {
    func testReleasedShapeTiming() throws {
        guard ProcessInfo.processInfo.environment["VQGAN_BENCHMARK"] == "1" else {
            throw XCTSkip("set VQGAN_BENCHMARK=1 to time the decoder")
        }
        let repetitions = Int(ProcessInfo.processInfo.environment["VQGAN_BENCHMARK_REPS"] ?? "") ?? 3
        let batches = (ProcessInfo.processInfo.environment["VQGAN_BENCHMARK_BATCHES"] ?? "1,4")
            .split(separator: ",").compactMap { Int($0) }
        let batched = ProcessInfo.processInfo.environment["VQGAN_BENCHMARK_BATCHED"] == "1"
        for batch in batches {
            let result = VQGANBenchmark.run(
                batch: batch, repetitions: repetitions, batchedGEMM: batched, imagesPerPass: batched ? batch : nil)
            print(
                String(
                    format: "VQGAN decode 256 px, core %@, batch %d%@: %.3f s per image, %.1f GFLOP/s",
                    BLAS.coreName, batch, batched ? " (batched GEMM)" : "", result.secondsPerImage, result.gflops))
        }
    }
}
