import ModelBundle
import Scheduler
import Tensors
import XCTest

@testable import ImageAPI

final class PrometheusTextTests: XCTestCase {
    func testHistogramLayout() {
        var histogram = Histogram(upperBounds: [0.5, 1])
        histogram.observe(0.25)
        histogram.observe(0.75)
        histogram.observe(3)
        var page = PrometheusText()
        page.histogram("x_seconds", "Help.", histogram)
        XCTAssertEqual(
            page.text,
            """
            # HELP x_seconds Help.
            # TYPE x_seconds histogram
            x_seconds_bucket{le="0.5"} 1
            x_seconds_bucket{le="1"} 2
            x_seconds_bucket{le="+Inf"} 3
            x_seconds_sum 4
            x_seconds_count 3

            """)
    }

    func testLabelsAreEscaped() {
        XCTAssertEqual(PrometheusText.labels([("route", "a\"b\\c\nd")]), #"{route="a\"b\\c\nd"}"#)
        XCTAssertEqual(PrometheusText.labels([]), "")
        XCTAssertEqual(PrometheusText.format(0.25), "0.25")
        XCTAssertEqual(PrometheusText.format(3), "3")
    }

    func testPageHasTheSchedulerAndHTTPMetrics() throws {
        var metrics = SchedulerMetrics()
        metrics.mixedStepBatches = 5
        metrics.queueDepth = 2
        metrics.retainedJobs = 3
        metrics.retainedBytes = 4096
        metrics.retentionEvictions["count"] = 6
        let http = HTTPMetrics()
        http.record(route: "/v1/jobs", code: 503, seconds: 0.01)
        http.record(route: "/v1/jobs", code: 503, seconds: 0.01)
        http.frameDropped()
        let model = try LoadedModel.random(configuration: .testTiny, seed: 0)
        let text = PrometheusText.render(scheduler: metrics, http: http, ready: true, models: [model])
        for line in [
            #"enat_info{model="test-tiny",precision="fp32",backend="openblas",kernel="\#(BLAS.coreName)"} 1"#, "enat_models_loaded 1",
            "enat_mixed_step_batches_total 5", "enat_queue_depth 2", "enat_ready 1",
            #"enat_http_requests_total{route="/v1/jobs",code="503"} 2"#, "# TYPE enat_time_to_first_frame_seconds histogram",
            "# TYPE enat_queue_wait_seconds histogram", "# TYPE enat_step_seconds histogram", "# TYPE enat_batch_size histogram",
            #"enat_job_failures_total{reason="cancelled"} 0"#, "enat_running_samples 0",
            "enat_retained_jobs 3", "enat_retained_bytes 4096", #"enat_retention_evictions_total{reason="count"} 6"#,
            #"enat_retention_evictions_total{reason="expired"} 0"#, "enat_stream_frames_dropped_total 1",
        ] {
            XCTAssertTrue(text.contains(line + "\n"), "missing: \(line)")
        }
        // Every sample line is "name{labels} value" and every family has HELP and TYPE.
        var declared = Set<String>()
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") { declared.insert(String(line.split(separator: " ")[2])); continue }
            if line.hasPrefix("#") { continue }
            let name = String(line.prefix { $0 != "{" && $0 != " " })
            let family = ["_bucket", "_sum", "_count"].reduce(name) { name, suffix in
                declared.contains(name) ? name : (name.hasSuffix(suffix) ? String(name.dropLast(suffix.count)) : name)
            }
            XCTAssertTrue(declared.contains(family), "undeclared: \(line)")
            XCTAssertNotNil(Double(line.split(separator: " ").last!.replacingOccurrences(of: "+Inf", with: "inf")), String(line))
        }
    }
}
