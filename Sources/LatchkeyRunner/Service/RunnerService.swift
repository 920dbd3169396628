import AsyncHTTPClient
import Foundation
import LatchkeyCore
import Logging
import ServiceLifecycle

/// A runner as a long-lived service: `concurrent` workers ask the server for jobs and run them until shutdown.
///
/// On graceful shutdown the workers stop asking for jobs; running jobs may finish within
/// `shutdownTimeout` seconds, after which they are aborted (process groups killed).
public struct RunnerService: Service {
    let configuration: RunnerConfiguration
    let api: any RunnerAPI
    let settings: ExecutorSettings
    let logger: Logger
    /// The sandbox every job runs in; nil for the `shell-unsafe` executor.
    let sandbox: JobSandbox?
    /// Between job requests, at least (a server that does not long-poll must not be hammered).
    var minimumRequestInterval: Duration = .seconds(1)
    var maximumBackoff: Duration = .seconds(30)

    /// A service for `configuration`, talking to its server with `httpClient`.
    ///
    /// With the sandbox executor it throws when bubblewrap is missing. `hiddenPaths` (the server's data directory,
    /// the runner's config file) stay invisible to jobs even if they lie under a system directory the sandbox shows.
    public init(
        configuration: RunnerConfiguration, httpClient: HTTPClient = .shared, logger: Logger = Logger(label: "latchkey.runner"), hiddenPaths: [String] = []
    ) throws {
        let sandbox = try Self.sandbox(for: configuration, hiddenPaths: hiddenPaths)
        self.init(configuration: configuration, api: try HTTPRunnerAPI(url: configuration.url, client: httpClient), logger: logger, sandbox: sandbox)
    }

    /// Checks that jobs can run as configured (bubblewrap present, workspaces reachable by job uids) without starting anything,
    /// so a server can refuse to start with the reason before it opens its database.
    public static func validate(_ configuration: RunnerConfiguration, hiddenPaths: [String] = []) throws {
        _ = try sandbox(for: configuration, hiddenPaths: hiddenPaths)
    }

    private static func sandbox(for configuration: RunnerConfiguration, hiddenPaths: [String]) throws -> JobSandbox? {
        guard configuration.executor == .sandbox else { return nil }
        let sandbox = try JobSandbox.locate(hiddenPaths: hiddenPaths)
        if geteuid() == 0 {
            // Found now rather than at every job: a job uid that cannot reach its workspace fails every job.
            let probe = JobUser(name: "latchkey-job", uid: uid_t(configuration.jobUIDRange.lower), gid: gid_t(configuration.jobUIDRange.lower), home: "/")
            try Workspace.requireTraversable(URL(fileURLWithPath: configuration.buildsDirectory).standardizedFileURL, by: probe)
        }
        return sandbox
    }

    init(configuration: RunnerConfiguration, api: any RunnerAPI, settings: ExecutorSettings = ExecutorSettings(), logger: Logger, sandbox: JobSandbox? = nil) {
        self.configuration = configuration
        self.api = api
        self.settings = settings
        self.logger = logger
        self.sandbox = sandbox
    }

    public func run() async throws {
        let jobs = RunningJobs()
        let grace = Duration.seconds(max(configuration.shutdownTimeout, 0))
        logger.info(
            "runner started",
            metadata: [
                "name": "\(configuration.name)", "url": "\(configuration.url)", "concurrent": "\(configuration.concurrent)",
                "executor": "\(configuration.executor.rawValue)",
            ])
        if sandbox == nil {
            logger.warning("jobs run WITHOUT a sandbox (shell-unsafe): a job can read and signal everything this runner's user can")
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // The watchdog: once shutdown starts, running jobs get `grace` to finish.
                do {
                    try await gracefulShutdown()
                    self.logger.info("shutting down: no new jobs; waiting for running jobs", metadata: ["running": "\(jobs.count)"])
                    try await Task.sleep(for: grace)
                    if jobs.count > 0 { self.logger.warning("shutdown timeout reached: aborting running jobs", metadata: ["running": "\(jobs.count)"]) }
                    jobs.abortAll()
                } catch {}
            }
            await withTaskGroup(of: Void.self) { workers in
                for index in 0..<max(configuration.concurrent, 1) {
                    workers.addTask { await self.work(index, jobs: jobs) }
                }
            }
            group.cancelAll()
        }
        logger.info("runner stopped")
    }

    /// One worker: request a job, run it, repeat; back off on errors.
    func work(_ index: Int, jobs: RunningJobs) async {
        var logger = logger
        logger[metadataKey: "worker"] = "\(index)"
        let executor = JobExecutor(configuration: configuration, api: api, settings: settings, logger: logger, sandbox: sandbox)
        var lastUpdate: String?
        var backoff = Duration.zero
        func nextBackoff() -> Duration {
            backoff = backoff == .zero ? .seconds(1) : min(backoff * 2, maximumBackoff)
            return backoff
        }
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let asked = ContinuousClock.now
            let response: JobRequestResponse
            do {
                let api = self.api, token = configuration.token, systemID = configuration.systemID, since = lastUpdate
                response = try await cancelWhenGracefulShutdown {
                    try await api.requestJob(runnerToken: token, systemID: systemID, lastUpdate: since)
                }
            } catch {
                if Task.isShuttingDownGracefully || Task.isCancelled { break }
                let delay = nextBackoff()
                logger.warning("job request failed, retrying in \(delay)", metadata: ["error": "\(error)"])
                await pause(delay)
                continue
            }
            switch response {
            case .job(let job):
                backoff = .zero
                logger.info("received job", metadata: ["job": "\(job.id)", "name": "\(job.jobInfo.name)", "project": "\(job.jobInfo.projectId)"])
                let control = JobControl()
                jobs.insert(job.id, control)
                _ = await executor.run(job, control: control)
                jobs.remove(job.id)
            case .noJob(let update):
                backoff = .zero
                if let update { lastUpdate = update }
                let elapsed = ContinuousClock.now - asked
                if elapsed < minimumRequestInterval { await pause(minimumRequestInterval - elapsed) }
            case .forbidden:
                let delay = nextBackoff()
                logger.error("the server refused this runner's token (403 Forbidden): is the runner still registered? Retrying in \(delay)")
                await pause(delay)
            case .unexpected(let status):
                let delay = nextBackoff()
                logger.warning("job request answered HTTP \(status), retrying in \(delay)")
                await pause(delay)
            }
        }
    }

    /// Sleeps, waking early on shutdown.
    private func pause(_ duration: Duration) async {
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: duration) }
    }
}
