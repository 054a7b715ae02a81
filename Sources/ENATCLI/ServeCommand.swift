import ArgumentParser
import Dispatch
import Foundation
import Glibc
import HTTPServer
import ImageAPI
import ModelBundle
import Scheduler
import Tensors

/// `enat serve`: loads the models, starts the scheduler and the HTTP API, drains on SIGTERM/SIGINT.
/// Only configuration and wiring live here; the parts are in ImageAPI, Scheduler and HTTPServer.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the HTTP API (OpenAI Images API, jobs with progressive streams, metrics, a demo page).",
        discussion: """
            Every setting comes from, in rising precedence: its default, the JSON configuration file \
            (--config, else $ENAT_CONFIG, else Config/enat-serve.json if it exists; snake_case keys as \
            named below), an environment variable, a flag. Logs go to stderr, one line per request: text on \
            a terminal, JSON lines otherwise (--log-format).

            With an API key (--api-key, --api-key-file, ENAT_API_KEYS), every route except /healthz, \
            /health, /readyz, the page at / and (unless --protect-metrics) /metrics needs \
            'Authorization: Bearer KEY'.

            SIGTERM or SIGINT: readiness fails at once, running jobs and streams get \
            --shutdown-grace-seconds to finish, then the process exits 0.
            """)

    @Option(help: "JSON configuration file. Env: ENAT_CONFIG. Default: Config/enat-serve.json if present.")
    var config: String?

    @Option(help: "Address to bind (0.0.0.0: every interface). Key: host. Env: ENAT_HOST. Default: 127.0.0.1 (this machine only).")
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

    @Option(help: "Most finished jobs kept (oldest forgotten first). Key: max_retained_jobs. Env: ENAT_MAX_RETAINED_JOBS. Default: 1000.")
    var maxRetainedJobs: Int?

    @Option(help: "Most bytes of finished jobs kept (oldest forgotten first). Key: max_retained_bytes. Env: ENAT_MAX_RETAINED_BYTES. Default: 134217728.")
    var maxRetainedBytes: Int?

    @Option(help: "trace, debug (adds each job's start, steps and end, and probe requests), info, notice, warning, error or critical. Key: log_level. Env: ENAT_LOG_LEVEL. Default: info.")
    var logLevel: String?

    @Option(help: "text or json. Key: log_format. Env: ENAT_LOG_FORMAT. Default: text on a terminal, json otherwise.")
    var logFormat: String?

    @Option(
        name: .customLong("api-key"),
        help: "An API key clients must send as 'Authorization: Bearer KEY' (repeatable). Key: api_keys. Env: ENAT_API_KEYS (comma-separated). Default: none (no key needed).")
    var apiKeys: [String] = []

    @Option(help: "A file of API keys, one per line (# comments). Key: api_key_file. Env: ENAT_API_KEY_FILE.")
    var apiKeyFile: String?

    @Flag(help: "With API keys, /metrics needs a key too. Key: protect_metrics. Env: ENAT_PROTECT_METRICS. Default: off.")
    var protectMetrics = false

    @Option(
        name: .customLong("cors-origin"),
        help: "A web origin allowed to call the API from a browser, such as https://app.example.com, or * (repeatable). Key: cors_origins. Env: ENAT_CORS_ORIGINS (comma-separated). Default: none.")
    var corsOrigins: [String] = []

    @Option(
        name: .customLong("trusted-proxy"),
        help: "Address of a reverse proxy whose Forwarded / X-Forwarded-Proto / X-Forwarded-Host headers are believed (repeatable). Key: trusted_proxies. Env: ENAT_TRUSTED_PROXIES (comma-separated). Default: none.")
    var trustedProxies: [String] = []

    @Option(
        help: """
            Number format of the linear layers: fp32, bf16 (bfloat16 weights and products, float32 sums; \
            needs AVX2+FMA or AVX512-BF16) or auto (bf16 where the CPU has AVX512-BF16). Key: precision. \
            Env: ENAT_PRECISION. Default: auto.
            """)
    var precision: String?

    func run() throws {
        let (configuration, file) = try loadConfiguration()
        let apiKeys: [String]
        do {
            apiKeys = try configuration.loadAPIKeys()
        } catch {
            throw CommandError(error.message)
        }
        let format = configuration.logFormat ?? (isatty(STDERR_FILENO) == 1 ? .text : .json)
        let logger = Logger(level: configuration.logLevel, format: format)
        logger.info("configuration", [
            "file": .string(file ?? "(none)"), "host": .string(configuration.host), "port": .int(configuration.port),
            "max_batch_size": .int(configuration.maxBatchSize), "max_queue_length": .int(configuration.maxQueueLength),
            "blas_threads": .int(configuration.blasThreads), "precision": .string(configuration.precision.rawValue),
            "api_keys": .int(apiKeys.count), "cors_origins": .string(configuration.corsOrigins.joined(separator: ",")),
        ])
        // Before loading: a port in use should not cost the wait for the models.
        if let problem = PortProbe.problem(host: configuration.host, port: configuration.port) {
            throw CommandError("cannot listen on \(configuration.host):\(configuration.port): \(problem)")
        }
        // Watch signals before loading: as PID 1 in a container, a SIGTERM that arrives while the
        // models load would otherwise be lost and the pod would wait out its whole grace period.
        let shutdown = ShutdownHandler(logger: logger, grace: configuration.shutdownGrace)
        shutdown.watch()
        let models: [LoadedModel]
        do {
            models = try ServedModels.load(configuration, logger: logger, executablePath: CommandLine.arguments.first)
        } catch {
            // Not a usage error: say what is wrong and exit non-zero without the usage text.
            logger.error("cannot load models", ["error": .string("\(error)")])
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode.failure
        }
        let scheduler = GenerationScheduler(models: models, configuration: configuration.schedulerConfiguration)
        scheduler.start()
        let api = ImageAPI(scheduler: scheduler, configuration: APIConfiguration(configuration, apiKeys: apiKeys, logger: logger))
        let server = HTTPServer(
            configuration: configuration.httpServerConfiguration, onRejection: api.rejectionObserver, handler: api.handler)
        let port: Int
        do {
            port = try server.start()
        } catch {
            throw CommandError("cannot listen on \(configuration.host):\(configuration.port): \(error)")
        }
        logger.info("listening", [
            "host": .string(configuration.host), "port": .int(port), "url": .string(configuration.url(port: port)),
            "models": .string(scheduler.models.map(\.id).joined(separator: ",")),
            "auth": .string(apiKeys.isEmpty ? "none" : "api key"),
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
        flags.maxRetainedJobs = maxRetainedJobs
        flags.maxRetainedBytes = maxRetainedBytes
        if let logLevel {
            guard let level = LogLevel(rawValue: logLevel.lowercased()) else {
                throw ValidationError("--log-level must be one of \(LogLevel.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            flags.logLevel = level
        }
        if let precision {
            guard let setting = PrecisionSetting(rawValue: precision.lowercased()) else {
                throw ValidationError("--precision must be one of \(PrecisionSetting.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            flags.precision = setting
        }
        if let logFormat {
            guard let format = LogFormat(rawValue: logFormat.lowercased()) else {
                throw ValidationError("--log-format must be one of \(LogFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            flags.logFormat = format
        }
        flags.apiKeys = apiKeys.isEmpty ? nil : apiKeys
        flags.apiKeyFile = apiKeyFile
        flags.protectMetrics = protectMetrics ? true : nil
        flags.corsOrigins = corsOrigins.isEmpty ? nil : corsOrigins
        flags.trustedProxies = trustedProxies.isEmpty ? nil : trustedProxies
        do {
            let loaded = try ServerConfiguration.load(
                configFile: config, environment: ProcessInfo.processInfo.environment, flags: flags)
            return (loaded.configuration, loaded.file)
        } catch {
            // The configuration's own words, without the usage text a flag typo would deserve.
            throw CommandError(error.message)
        }
    }
}

/// A failure the user can fix, printed as `Error: message` without the usage text.
struct CommandError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
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
