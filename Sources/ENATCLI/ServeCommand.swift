import ArgumentParser
import Dispatch
import Foundation
import Glibc
import HTTPServer
import ImageAPI
import ModelBundle
import Scheduler
import ServerLog
import ServerSettings
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

    @Option(name: .customLong(Setting.ConfigFile.flag), help: ArgumentHelp(Setting.ConfigFile.helpText))
    var config: String?

    // One option per setting, named and explained by its declaration in `Setting`; every value
    // is read as text and parsed by the setting's own rules, as the environment's are.
    @Option(name: .customLong(Setting.host.flag), help: ArgumentHelp(Setting.host.helpText))
    var host: String?
    @Option(name: .customLong(Setting.port.flag), help: ArgumentHelp(Setting.port.helpText))
    var port: String?
    @Option(name: .customLong(Setting.models.flag), help: ArgumentHelp(Setting.models.helpText))
    var models: [String] = []
    @Option(name: .customLong(Setting.maxBatchSize.flag), help: ArgumentHelp(Setting.maxBatchSize.helpText))
    var maxBatchSize: String?
    @Option(name: .customLong(Setting.maxQueueLength.flag), help: ArgumentHelp(Setting.maxQueueLength.helpText))
    var maxQueueLength: String?
    @Option(name: .customLong(Setting.maxQueueWaitSeconds.flag), help: ArgumentHelp(Setting.maxQueueWaitSeconds.helpText))
    var maxQueueWaitSeconds: String?
    @Option(name: .customLong(Setting.requestTimeoutSeconds.flag), help: ArgumentHelp(Setting.requestTimeoutSeconds.helpText))
    var requestTimeoutSeconds: String?
    @Option(name: .customLong(Setting.blasThreads.flag), help: ArgumentHelp(Setting.blasThreads.helpText))
    var blasThreads: String?
    @Option(name: .customLong(Setting.maxBodyBytes.flag), help: ArgumentHelp(Setting.maxBodyBytes.helpText))
    var maxBodyBytes: String?

    @Option(name: .customLong(Setting.maxUploadBytes.flag), help: ArgumentHelp(Setting.maxUploadBytes.helpText))
    var maxUploadBytes: String?
    @Option(name: .customLong(Setting.maxConnections.flag), help: ArgumentHelp(Setting.maxConnections.helpText))
    var maxConnections: String?
    @Option(name: .customLong(Setting.maxConnectionsPerAddress.flag), help: ArgumentHelp(Setting.maxConnectionsPerAddress.helpText))
    var maxConnectionsPerAddress: String?
    @Option(name: .customLong(Setting.shutdownGraceSeconds.flag), help: ArgumentHelp(Setting.shutdownGraceSeconds.helpText))
    var shutdownGraceSeconds: String?
    @Option(name: .customLong(Setting.jobRetentionSeconds.flag), help: ArgumentHelp(Setting.jobRetentionSeconds.helpText))
    var jobRetentionSeconds: String?
    @Option(name: .customLong(Setting.maxRetainedJobs.flag), help: ArgumentHelp(Setting.maxRetainedJobs.helpText))
    var maxRetainedJobs: String?
    @Option(name: .customLong(Setting.maxRetainedBytes.flag), help: ArgumentHelp(Setting.maxRetainedBytes.helpText))
    var maxRetainedBytes: String?
    @Option(name: .customLong(Setting.logLevel.flag), help: ArgumentHelp(Setting.logLevel.helpText))
    var logLevel: String?
    @Option(name: .customLong(Setting.logFormat.flag), help: ArgumentHelp(Setting.logFormat.helpText))
    var logFormat: String?
    @Option(name: .customLong(Setting.apiKeys.flag), help: ArgumentHelp(Setting.apiKeys.helpText))
    var apiKeys: [String] = []
    @Option(name: .customLong(Setting.apiKeyFile.flag), help: ArgumentHelp(Setting.apiKeyFile.helpText))
    var apiKeyFile: String?
    @Flag(name: .customLong(Setting.protectMetrics.flag), help: ArgumentHelp(Setting.protectMetrics.helpText))
    var protectMetrics = false
    @Option(name: .customLong(Setting.corsOrigins.flag), help: ArgumentHelp(Setting.corsOrigins.helpText))
    var corsOrigins: [String] = []
    @Option(name: .customLong(Setting.trustedProxies.flag), help: ArgumentHelp(Setting.trustedProxies.helpText))
    var trustedProxies: [String] = []
    @Option(name: .customLong(Setting.precision.flag), help: ArgumentHelp(Setting.precision.helpText))
    var precision: String?

    /// The values given on the command line, by setting key (a test checks that every setting has its flag here).
    var givenFlags: [String: [String]] {
        func given(_ text: String?) -> [String] { text.map { [$0] } ?? [] }
        return [
            Setting.host.key: given(host), Setting.port.key: given(port), Setting.models.key: models,
            Setting.maxBatchSize.key: given(maxBatchSize), Setting.maxQueueLength.key: given(maxQueueLength),
            Setting.maxQueueWaitSeconds.key: given(maxQueueWaitSeconds), Setting.requestTimeoutSeconds.key: given(requestTimeoutSeconds),
            Setting.blasThreads.key: given(blasThreads), Setting.maxBodyBytes.key: given(maxBodyBytes),
            Setting.maxUploadBytes.key: given(maxUploadBytes),
            Setting.maxConnections.key: given(maxConnections), Setting.maxConnectionsPerAddress.key: given(maxConnectionsPerAddress),
            Setting.shutdownGraceSeconds.key: given(shutdownGraceSeconds), Setting.jobRetentionSeconds.key: given(jobRetentionSeconds),
            Setting.maxRetainedJobs.key: given(maxRetainedJobs), Setting.maxRetainedBytes.key: given(maxRetainedBytes),
            Setting.logLevel.key: given(logLevel), Setting.logFormat.key: given(logFormat), Setting.apiKeys.key: apiKeys,
            Setting.apiKeyFile.key: given(apiKeyFile), Setting.protectMetrics.key: protectMetrics ? ["true"] : [],
            Setting.corsOrigins.key: corsOrigins, Setting.trustedProxies.key: trustedProxies, Setting.precision.key: given(precision),
        ]
    }

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
        logger.info(
            "configuration",
            [
                "file": .string(file ?? "(none)"), "host": .string(configuration.host), "port": .int(configuration.port),
                Setting.maxBatchSize.key: .int(configuration.maxBatchSize), Setting.maxQueueLength.key: .int(configuration.maxQueueLength),
                Setting.blasThreads.key: .int(configuration.blasThreads), Setting.precision.key: .string(configuration.precision.rawValue),
                Setting.apiKeys.key: .int(apiKeys.count), Setting.corsOrigins.key: .string(configuration.corsOrigins.joined(separator: ",")),
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
        let api = ImageAPI(scheduler: scheduler, configuration: configuration.apiConfiguration(apiKeys: apiKeys, logger: logger))
        let server = HTTPServer(
            configuration: configuration.httpServerConfiguration, onRejection: api.rejectionObserver, handler: api.handler)
        let port: Int
        do {
            port = try server.start()
        } catch {
            throw CommandError("cannot listen on \(configuration.host):\(configuration.port): \(error)")
        }
        logger.info(
            "listening",
            [
                "host": .string(configuration.host), "port": .int(port), "url": .string(configuration.url(port: port)),
                "models": .string(scheduler.models.map(\.id).joined(separator: ",")),
                "auth": .string(apiKeys.isEmpty ? "none" : "api key"),
            ])
        shutdown.serving(api: api, scheduler: scheduler, server: server)
        dispatchMain()
    }

    /// Defaults < file < environment < these flags.
    func loadConfiguration(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> (ServerConfiguration, String?) {
        do {
            let loaded = try ServerConfiguration.load(configFile: config, environment: environment, flags: .flags(givenFlags))
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
