import ENAT
import Scheduler
import ServerLog

extension ImageAPI {
    /// At debug level, follows a new job and logs its start, each step and its end, so a person
    /// can see where a slow or failing job spends its time. Nothing is followed above debug.
    func logJob(_ job: GenerationJob) {
        let logger = configuration.logger
        guard logger.level <= .debug else { return }
        let request = job.request
        logger.debug(
            "job submitted",
            [
                "job_id": .string(job.id), "model": .string(request.model), "seed": .string(String(request.seed)),
                "steps": .int(request.settings.steps),
            ])
        let events = job.events()
        Task {
            for await event in events {
                switch event {
                case .queued(let position):
                    logger.debug("job queued", ["job_id": .string(job.id), "queue_position": .int(position)])
                case .started:
                    logger.debug("job started", ["job_id": .string(job.id)])
                case .step(let progress):
                    logger.debug(
                        "job step",
                        [
                            "job_id": .string(job.id), "step": .int(progress.step), "steps": .int(progress.steps),
                            "revealed": .int(progress.revealed), "tokens": .int(progress.tokenCount),
                        ])
                case .completed(let result):
                    logger.debug(
                        "job completed",
                        [
                            "job_id": .string(job.id), "seed": .string(String(result.seed)),
                            "queue_seconds": .double(result.queueSeconds), "run_seconds": .double(result.runSeconds),
                        ])
                case .failed(let failure):
                    logger.debug("job failed", ["job_id": .string(job.id), "reason": .string(failure.reason)])
                }
            }
        }
    }
}
