import Foundation
import ModelBundle
import Scheduler
import Tensors

/// Prometheus text exposition format 0.0.4.
struct PrometheusText {
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    private(set) var text = ""

    mutating func gauge(_ name: String, _ help: String, _ value: Double) {
        header(name, help, "gauge")
        text += "\(name) \(Self.format(value))\n"
    }

    mutating func counter(_ name: String, _ help: String, _ value: Int) {
        header(name, help, "counter")
        text += "\(name) \(value)\n"
    }

    /// A labelled family; `samples` are (labels, value).
    mutating func family(_ name: String, _ help: String, type: String, _ samples: [([(String, String)], Double)]) {
        header(name, help, type)
        for (labels, value) in samples {
            text += name + Self.labels(labels) + " " + Self.format(value) + "\n"
        }
    }

    mutating func histogram(_ name: String, _ help: String, _ histogram: Histogram) {
        header(name, help, "histogram")
        for (bound, count) in zip(histogram.upperBounds, histogram.cumulativeCounts) {
            text += "\(name)_bucket{le=\"\(Self.format(bound))\"} \(count)\n"
        }
        text += "\(name)_bucket{le=\"+Inf\"} \(histogram.count)\n"
        text += "\(name)_sum \(Self.format(histogram.sum))\n"
        text += "\(name)_count \(histogram.count)\n"
    }

    private mutating func header(_ name: String, _ help: String, _ type: String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    static func labels(_ pairs: [(String, String)]) -> String {
        guard !pairs.isEmpty else { return "" }
        let escaped = pairs.map { name, value in
            let value = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n")
            return "\(name)=\"\(value)\""
        }
        return "{" + escaped.joined(separator: ",") + "}"
    }

    /// Integers without a fraction, others in Go's shortest form as Prometheus prints them.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int(value)) }
        return "\(value)"
    }
}

extension PrometheusText {
    /// The whole `/metrics` page.
    static func render(scheduler metrics: SchedulerMetrics, http: HTTPMetrics, ready: Bool, models: [LoadedModel]) -> String {
        var page = PrometheusText()
        page.gauge("enat_ready", "1 when the server accepts generations (models loaded, not draining, queue not full).", ready ? 1 : 0)
        page.gauge("enat_models_loaded", "Models being served.", Double(models.count))
        page.family(
            "enat_info", "What computes each model: precision (fp32, bf16), backend (openblas, enat-bf16) and kernel.",
            type: "gauge",
            models.map {
                ([("model", $0.id), ("precision", $0.precision.rawValue), ("backend", $0.computeBackend), ("kernel", $0.computeKernel)], 1)
            })
        page.gauge("enat_queue_depth", "Jobs waiting to start.", Double(metrics.queueDepth))
        page.gauge("enat_running_samples", "Samples in the running batch.", Double(metrics.runningSamples))
        page.gauge("enat_last_batch_size", "Samples in the latest engine step call.", Double(metrics.lastBatchSize))
        page.gauge("enat_retained_jobs", "Finished jobs kept for lookup (bounded by time, count and bytes).", Double(metrics.retainedJobs))
        page.gauge("enat_retained_bytes", "Bytes of the finished jobs kept: images, tokens and an allowance per job.", Double(metrics.retainedBytes))
        page.family(
            "enat_retention_evictions_total", "Finished jobs forgotten, by why: expired, or pushed out by the count or bytes bound.",
            type: "counter", metrics.retentionEvictions.sorted { $0.key < $1.key }.map { ([("reason", $0.key)], Double($0.value)) })
        page.counter("enat_engine_steps_total", "Engine step calls (each advances every running sample of a model by one step).", metrics.stepsRun)
        page.counter("enat_sample_steps_total", "Sample steps: the sum of the batch sizes of all engine step calls.", metrics.sampleSteps)
        page.counter("enat_mixed_step_batches_total", "Engine step calls whose samples were at different sampler steps.", metrics.mixedStepBatches)
        page.counter("enat_jobs_submitted_total", "Jobs accepted into the queue.", metrics.jobsSubmitted)
        page.counter("enat_images_completed_total", "Images generated.", metrics.imagesCompleted)
        page.family(
            "enat_job_failures_total", "Jobs that ended without an image, by reason.", type: "counter",
            metrics.failures.sorted { $0.key < $1.key }.map { ([("reason", $0.key)], Double($0.value)) })
        // Invalid requests are refused by the API's validation before the scheduler sees them,
        // so "invalid" is the API's count of generation requests answered 400.
        var rejections = metrics.rejections
        rejections["invalid"] = http.invalidSubmissions
        page.family(
            "enat_submit_rejections_total", "Generation requests refused before queueing, by reason.", type: "counter",
            rejections.sorted { $0.key < $1.key }.map { ([("reason", $0.key)], Double($0.value)) })
        page.histogram("enat_queue_wait_seconds", "Time from submission to admission into the running batch.", metrics.queueSeconds)
        page.histogram("enat_step_seconds", "Duration of each engine step call.", metrics.stepSeconds)
        page.histogram("enat_time_to_first_frame_seconds", "Time from submission to a job's first step.", metrics.timeToFirstFrameSeconds)
        page.histogram("enat_batch_size", "Samples per engine step call.", metrics.batchSize)
        let snapshot = http.snapshot
        page.family(
            "enat_http_requests_total", "HTTP requests answered by the API, by route and status code.", type: "counter",
            snapshot.requests.sorted { ($0.key.route, $0.key.code) < ($1.key.route, $1.key.code) }
                .map { ([("route", $0.key.route), ("code", String($0.key.code))], Double($0.value)) })
        page.histogram("enat_http_request_duration_seconds", "Time from request to the end of its response (streams included).", snapshot.duration)
        page.gauge("enat_http_open_streams", "Progressive streams being sent.", Double(snapshot.openStreams))
        page.counter(
            "enat_stream_frames_dropped_total",
            "Preview frames not sent because the client read too slowly and a newer frame replaced them.", http.framesDropped)
        page.family(
            "enat_http_rejections_total",
            "Requests the HTTP layer refused before routing (malformed, too large, too slow, too many connections), by reason and status code.",
            type: "counter",
            snapshot.rejections.sorted { ($0.key.reason, $0.key.code) < ($1.key.reason, $1.key.code) }
                .map { ([("reason", $0.key.reason), ("code", String($0.key.code))], Double($0.value)) })
        return page.text
    }
}
