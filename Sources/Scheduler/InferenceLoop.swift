import DurationSeconds
import ENAT
import ModelBundle
import Tensors

/// The body of the ONE inference thread: it owns every engine call and every sampling run.
/// The scheduler core decides (under its lock) what happens at each step boundary; this loop
/// does the heavy work outside the lock and reports back. Metrics are recorded before the
/// events they describe go out, so a client that saw an event finds it counted.
final class InferenceLoop {
    private let core: SchedulerCore
    /// Runs of admitted jobs, by job id. Created lazily at the job's first step, on this thread
    /// (a caption is encoded there), and dropped when the job leaves the batch.
    private var runs: [String: SamplingRun] = [:]

    init(core: SchedulerCore) {
        self.core = core
    }

    func run() {
        BLAS.setThreads(core.configuration.blasThreads)
        while true {
            let plan = core.nextPlan()
            for (job, failure) in plan.failed {
                runs.removeValue(forKey: job.id)
                job.fail(failure)
            }
            if plan.stop { break }
            if let step = plan.step { self.step(model: step.model, jobs: step.jobs) }
        }
        runs.removeAll()
        core.threadDidEnd()
    }

    /// Jobs leaving the batch in this step, published once the core has recorded them.
    private struct Exits {
        var departures = SchedulerCore.Departures()
        var failed: [(GenerationJob, GenerationFailure)] = []
        var completed: [(job: GenerationJob, png: [UInt8], tokens: [Int32])] = []
        var completedAt: ContinuousClock.Instant
    }

    /// One engine call for every running job of a model, its previews and step events, then
    /// the final images of the jobs that finished, decoded together.
    private func step(model index: Int, jobs: [GenerationJob]) {
        let model = core.models[index]
        var exits = Exits(completedAt: core.clock.now)
        defer { publish(exits, model: index) }

        var batchJobs: [GenerationJob] = []
        var batch: [SamplingRun] = []
        batchJobs.reserveCapacity(jobs.count)
        batch.reserveCapacity(jobs.count)
        for job in jobs {
            if let run = runs[job.id] {
                batchJobs.append(job)
                batch.append(run)
                continue
            }
            let request = job.request
            do {
                let run = try model.makeRun(condition: request.condition, settings: request.settings, seed: request.seed, edit: request.edit)
                runs[job.id] = run
                batchJobs.append(job)
                batch.append(run)
            } catch {
                leave(job, failing: .engine(String(describing: error)), &exits)
            }
        }
        guard !batch.isEmpty else { return }

        let firstStep = batch[0].step
        let mixedSteps = batch.contains { $0.step != firstStep }
        let stepStart = core.clock.now
        let updates: [StepUpdate]
        do {
            updates = try model.sampler.step(batch)
        } catch {
            for job in batchJobs { leave(job, failing: .engine(String(describing: error)), &exits) }
            return
        }
        let stepSeconds = stepStart.duration(to: core.clock.now).inSeconds
        guard updates.count == batch.count else {
            let message = "the sampler returned \(updates.count) updates for \(batch.count) runs"
            for job in batchJobs { leave(job, failing: .engine(message), &exits) }
            return
        }

        var progress: [(job: GenerationJob, progress: StepProgress)] = []
        var firstFrameSeconds: [Double] = []
        var finishedJobs: [GenerationJob] = []
        var finishedTokens: [[Int32]] = []
        progress.reserveCapacity(updates.count)
        for (position, update) in updates.enumerated() {
            let job = batchJobs[position]
            let request = job.request
            var frame: [UInt8]?
            if request.wantsPreview(atStep: update.step) {
                do {
                    frame = try model.renderPreviewPNG(update, mode: request.preview)
                } catch {
                    leave(job, failing: .engine(String(describing: error)), &exits)
                    continue
                }
            }
            var revealed = 0
            for isRevealed in update.revealed where isRevealed { revealed += 1 }
            progress.append(
                (
                    job,
                    StepProgress(
                        step: update.step + 1, steps: update.steps, revealed: revealed,
                        tokenCount: update.revealed.count, previewPNG: frame)
                ))
            if update.step == 0 { firstFrameSeconds.append(job.submittedAt.duration(to: core.clock.now).inSeconds) }
            if batch[position].isFinished {
                finishedJobs.append(job)
                finishedTokens.append(update.ids)
            }
        }
        core.recordStep(
            batchSize: batch.count, mixedSteps: mixedSteps, seconds: stepSeconds, firstFrameSeconds: firstFrameSeconds)
        for (job, step) in progress { job.publishStep(step) }

        guard !finishedJobs.isEmpty else { return }
        do {
            let pngs = try model.renderFinalPNGs(finishedTokens)
            guard pngs.count == finishedJobs.count else {
                throw GenerationFailure.engine(
                    "the decoder returned \(pngs.count) images for \(finishedJobs.count) token maps")
            }
            let now = core.clock.now
            exits.completedAt = now
            for (position, job) in finishedJobs.enumerated() {
                runs.removeValue(forKey: job.id)
                exits.departures.ids.append(job.id)
                exits.departures.resultBytes[job.id] =
                    pngs[position].count + finishedTokens[position].count * MemoryLayout<Int32>.stride
                if let startedAt = job.startedAt, !job.isFinished {
                    exits.departures.completedRunSeconds.append(startedAt.duration(to: now).inSeconds)
                }
                exits.completed.append((job, pngs[position], finishedTokens[position]))
            }
        } catch {
            for job in finishedJobs { leave(job, failing: .engine(String(describing: error)), &exits) }
        }
    }

    private func leave(_ job: GenerationJob, failing failure: GenerationFailure, _ exits: inout Exits) {
        runs.removeValue(forKey: job.id)
        exits.departures.ids.append(job.id)
        // A job the core already failed (shutdown) is not counted twice.
        if !job.isFinished { exits.departures.failures.append(failure) }
        exits.failed.append((job, failure))
    }

    /// Records the departures, then publishes their final events.
    private func publish(_ exits: Exits, model: Int) {
        guard !exits.departures.isEmpty else { return }
        core.jobsLeft(model: model, exits.departures)
        for (job, png, tokens) in exits.completed { job.complete(png: png, tokens: tokens, at: exits.completedAt) }
        for (job, failure) in exits.failed { job.fail(failure) }
    }
}
