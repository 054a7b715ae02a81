import ArgumentParser
import Dispatch
import Foundation
import HTTPServer
import ImageAPI
import ModelBundle
import Scheduler

/// `enat serve`: loads the models, starts the scheduler and the HTTP API, drains on SIGTERM/SIGINT.
/// Only configuration and wiring live here; the parts are in ImageAPI, Scheduler and HTTPServer.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the HTTP API (OpenAI Images API, jobs with progressive streams, metrics, a demo page).",
        discussion: """
            Every setting comes from, in rising precedence: its default, the JSON configuration file \
            (--config, else $ENAT_CONFIG, else Config/enat-serve.json if it exists; snake_case keys as \
            named below), an environment variable, a flag. Logs are JSON lines on stderr, one per request.

            SIGTERM or SIGINT: readiness fails at once, running jobs and streams get \
            --shutdown-grace-seconds to finish, then the process exits 0.
            """)

    @Option(help: "JSON configuration file. Env: ENAT_CONFIG. Default: Config/enat-serve.json if present.")
    var config: String?

    @Option(help: "Address to bind. Key: host. Env: ENAT_HOST. Default: 0.0.0.0.")
    var host: String?

    @Option(help: "Port to bind (0: any free port, logged at startup). Key: port. Env: ENAT_PORT. Default: 8080.")
    var port: Int?

    @Option(
        name: .customLong("model"),
        help: """
            A model to serve (repeatable): a bundle folder, the official checkpoint files, or random:tiny \
            (random weights, for tests and benchmarks). Key: models. Env: ENAT_MODELS (comma-separated). \
            Default: those of Models/demo-shapes, Models/demo-captions that exist.
            """)
    var models: [String] = []

    @Option(help: "Samples per engine step. Key: max_batch_size. Env: ENAT_MAX_BATCH_SIZE. Default: 4.")
    var maxBatchSize: Int?

    @Option(help: "Jobs that may wait; beyond it requests get 503 + Retry-After. Key: max_queue_length. Env: ENAT_MAX_QUEUE_LENGTH. Default: 64.")
    var maxQueueLength: Int?

    @Option(help: "Longest wait in the queue, seconds. Key: max_queue_wait_seconds. Env: ENAT_MAX_QUEUE_WAIT_SECONDS. Default: 120.")
    var maxQueueWaitSeconds: Double?

    @Option(help: "Deadline of one generation request, seconds. Key: request_timeout_seconds. Env: ENAT_REQUEST_TIMEOUT_SECONDS. Default: 300.")
    var requestTimeoutSeconds: Double?

    @Option(help: "OpenBLAS threads of the inference thread. Key: blas_threads. Env: ENAT_BLAS_THREADS. Default: number of CPUs.")
    var blasThreads: Int?

    @Option(help: "Largest request body, bytes (413 beyond). Key: max_body_bytes. Env: ENAT_MAX_BODY_BYTES. Default: 1048576.")
    var maxBodyBytes: Int?

    @Option(help: "Most connections at once (503 beyond). Key: max_connections. Env: ENAT_MAX_CONNECTIONS. Default: 512.")
    var maxConnections: Int?

    @Option(help: "Most connections from one client address (429 beyond); behind a proxy, raise it to max_connections. Key: max_connections_per_address. Env: ENAT_MAX_CONNECTIONS_PER_ADDRESS. Default: 64.")
    var maxConnectionsPerAddress: Int?

    @Option(help: "Time running jobs and streams get on SIGTERM, seconds. Key: shutdown_grace_seconds. Env: ENAT_SHUTDOWN_GRACE_SECONDS. Default: 30.")
    var shutdownGraceSeconds: Double?

    @Option(help: "How long finished jobs stay available, seconds. Key: job_retention_seconds. Env: ENAT_JOB_RETENTION_SECONDS. Default: 600.")
    var jobRetentionSeconds: Double?

    @Option(help: "trace, debug, info, notice, warning, error or critical. Key: log_level. Env: ENAT_LOG_LEVEL. Default: info.")
    var logLevel: String?

    func run() throws {
        let (configuration, file) = try loadConfiguration()
        let logger = Logger(level: configuration.logLevel)
        logger.info("configuration", [
            "file": .string(file ?? "(none)"), "host": .string(configuration.host), "port": .int(configuration.port),
            "max_batch_size": .int(configuration.maxBatchSize), "max_queue_length": .int(configuration.maxQueueLength),
            "blas_threads": .int(configuration.blasThreads),
        ])
        // Watch signals before loading: as PID 1 in a container, a SIGTERM that arrives while the
        // models load would otherwise be lost and the pod would wait out its whole grace period.
        let shutdown = ShutdownHandler(logger: logger, grace: configuration.shutdownGrace)
        shutdown.watch()
        let models: [LoadedModel]
        do {
            models = try ServedModels.load(configuration, logger: logger)
        } catch {
            // Not a usage error: say what is wrong and exit non-zero without the usage text.
            logger.error("cannot load models", ["error": .string("\(error)")])
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
        let scheduler = GenerationScheduler(models: models, configuration: configuration.schedulerConfiguration)
        scheduler.start()
        let api = ImageAPI(scheduler: scheduler, configuration: APIConfiguration(configuration, logger: logger))
        let server = HTTPServer(
            configuration: configuration.httpServerConfiguration, onRejection: api.rejectionObserver, handler: api.handler)
        let port: Int
        do {
            port = try server.start()
        } catch {
            throw ValidationError("cannot listen on \(configuration.host):\(configuration.port): \(error)")
        }
        logger.info("listening", [
            "host": .string(configuration.host), "port": .int(port),
            "models": .string(scheduler.models.map(\.id).joined(separator: ",")),
        ])
        shutdown.serving(api: api, scheduler: scheduler, server: server)
        dispatchMain()
    }

    /// Defaults < file < environment < these flags.
    private func loadConfiguration() throws -> (ServerConfiguration, String?) {
        var flags = ServerConfiguration.Overrides()
        flags.host = host
        flags.port = port
        flags.models = models.isEmpty ? nil : models
        flags.maxBatchSize = maxBatchSize
        flags.maxQueueLength = maxQueueLength
        flags.maxQueueWaitSeconds = maxQueueWaitSeconds
        flags.requestTimeoutSeconds = requestTimeoutSeconds
        flags.blasThreads = blasThreads
        flags.maxBodyBytes = maxBodyBytes
        flags.maxConnections = maxConnections
        flags.maxConnectionsPerAddress = maxConnectionsPerAddress
        flags.shutdownGraceSeconds = shutdownGraceSeconds
        flags.jobRetentionSeconds = jobRetentionSeconds
        if let logLevel {
            guard let level = LogLevel(rawValue: logLevel.lowercased()) else {
                throw ValidationError("--log-level must be one of \(LogLevel.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            flags.logLevel = level
        }
        do {
            let loaded = try ServerConfiguration.load(
                configFile: config, environment: ProcessInfo.processInfo.environment, flags: flags)
            return (loaded.configuration, loaded.file)
        } catch {
            throw ValidationError(error.message)
        }
    }
}

/// Turns SIGTERM/SIGINT into a clean exit: before serving, at once; while serving, a drain of the
/// scheduler and the server within the grace period, then exit 0.
private final class ShutdownHandler: @unchecked Sendable {
    private struct Services {
        let api: ImageAPI
        let scheduler: GenerationScheduler
        let server: HTTPServer
    }

    private let logger: Logger
    private let grace: Duration
    private let lock = NSLock()
    private var services: Services?

    init(logger: Logger, grace: Duration) {
        self.logger = logger
        self.grace = grace
    }

    func watch() {
        let signals = SignalWatcher.stream()
        Task {
            for await signal in signals {
                await self.handle(signal)
            }
        }
    }

    func serving(api: ImageAPI, scheduler: GenerationScheduler, server: HTTPServer) {
        lock.withLock { services = Services(api: api, scheduler: scheduler, server: server) }
    }

    private func handle(_ signal: Int32) async {
        guard let services = lock.withLock({ services }) else {
            logger.info("stopped before serving", ["signal": .int(Int(signal))])
            Foundation.exit(0)
        }
        logger.info("draining", ["signal": .int(Int(signal)), "grace_seconds": .int(Int(grace.components.seconds))])
        services.api.beginDraining()
        let deadline = ContinuousClock.now + grace
        async let drained: Void = services.scheduler.drain(deadline: deadline)
        await services.server.shutdown(deadline: deadline)
        await drained
        logger.info("stopped")
        Foundation.exit(0)
    }
}
