import XCTest

@testable import Scheduler

final class HistogramTests: XCTestCase {
    func testBucketsAreCumulative() {
        var histogram = Histogram(upperBounds: [1, 0.5, 2, 1])
        XCTAssertEqual(histogram.upperBounds, [0.5, 1, 2])
        for value in [0.1, 0.5, 0.7, 1.5, 9] { histogram.observe(value) }
        XCTAssertEqual(histogram.cumulativeCounts, [2, 3, 4])
        XCTAssertEqual(histogram.count, 5)
        XCTAssertEqual(histogram.sum, 11.8, accuracy: 1e-12)
    }

    func testMetricsListEveryReason() {
        var metrics = SchedulerMetrics()
        XCTAssertEqual(metrics.failures, ["cancelled": 0, "deadline_exceeded": 0, "shutting_down": 0, "engine": 0])
        metrics.recordFailure(.engine("boom"))
        metrics.recordRejection(.queueFull(retryAfter: .seconds(3)))
        metrics.recordStep(batchSize: 3, mixedSteps: true, seconds: 0.2)
        XCTAssertEqual(metrics.failures["engine"], 1)
        XCTAssertEqual(metrics.rejections["queue_full"], 1)
        XCTAssertEqual(metrics.stepsRun, 1)
        XCTAssertEqual(metrics.sampleSteps, 3)
        XCTAssertEqual(metrics.mixedStepBatches, 1)
        XCTAssertEqual(metrics.lastBatchSize, 3)
        XCTAssertEqual(metrics.batchSize.count, 1)
    }
}
