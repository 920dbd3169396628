import Foundation
import LatchkeyCore
import Logging

/// Everything `latchkey serve` is configured with, read once at start.
public struct ServerSettings: Sendable {
    public var host: String
    public var port: Int
    public var dataDirectory: URL
    /// `postgres://…` to use PostgreSQL; nil for the SQLite file in the data directory.
    public var databaseURL: String?
    /// The URL clients and jobs are given (defaults to http://host:port).
    public var externalURL: String?
    /// Root's personal access token on first start (`LATCHKEY_ROOT_TOKEN`).
    public var rootToken: String?
    /// Root's password on first start (`LATCHKEY_ROOT_PASSWORD`).
    public var rootPassword: String?
    /// How many runners to start inside the server process.
    public var embeddedRunners: Int
    /// The embedded runners' tags (`--runner-tags`); they run untagged jobs as well.
    public var embeddedRunnerTags: [String] = []
    public var logLevel: Logger.Level
    /// bcrypt cost for password hashes; tests lower it.
    public var passwordCost: UInt8
    /// How often the scheduler looks for due pipeline schedules.
    public var schedulerInterval: Duration
    /// The container registry that trusts this server's tokens (`host:port`), handed to jobs as `CI_REGISTRY`; nil when none.
    public var registryAddress: String?
    /// Which job tokens are minted and accepted: JWTs by default, opaque tokens still accepted.
    public var jobTokenFormat: JobTokenFormat = .jwt
    /// How large one pipeline may grow (jobs, needs per job): GitLab's `ci_pipeline_size` and `ci_needs_size_limit`.
    public var pipelineLimits: CIPipelineLimits = .default
    /// The largest artifact archive a job may upload.
    public var maxArtifactBytes: Int64 = 1 << 30
    /// How long `POST /jobs/request` holds a runner's request waiting for a job.
    public var jobRequestLongPoll: Duration = .seconds(30)
    /// A running job whose runner has sent nothing for this long fails with `runner_system_failure` and its token dies: four times
    /// the official runner's keep-alive (it updates a running job at least every 30 seconds), so an orphaned job's token lives
    /// about two minutes, not ten.
    public var runnerSilenceLimit: Duration = .seconds(120)
    /// How often the reaper checks running jobs for timeouts and silent runners.
    public var reaperInterval: Duration = .seconds(15)
    /// How often delayed jobs are checked for their start time (one indexed read when none is due).
    public var delayedJobInterval: Duration = .seconds(1)
    /// How long a connection may send nothing while its request head or body is incomplete, or between requests, before it is
    /// closed (nginx's `client_header_timeout`/`client_body_timeout`): a client holding thousands of silent connections cannot
    /// use up the server's descriptors. A request being answered (a runner's long poll) is never cut.
    public var idleTimeout: Duration = .seconds(60)
    /// How many git processes (clones, fetches, pushes, archives) one job, user or anonymous address may run at once; a
    /// request past it waits `gitProcessWait` for one to end, then is answered 429.
    public var gitProcessesPerCredential = 8
    /// How long a git request past `gitProcessesPerCredential` waits for a slot before its 429.
    public var gitProcessWait: Duration = .seconds(10)
    /// On SIGTERM, how long the embedded runners get to finish or cancel their jobs while the listener keeps serving them.
    public var shutdownTimeout: Duration = .seconds(30)
    /// How long startup keeps trying to reach the database before it gives up with the reason.
    public var startupTimeout: Duration = .seconds(10)
    /// How long a request waits for a database connection (or a readiness probe for an answer) before it is answered 503.
    public var databaseTimeout: Duration = .seconds(5)

    public init(
        host: String = "127.0.0.1", port: Int = 8080, dataDirectory: URL = URL(fileURLWithPath: "latchkey-data"), databaseURL: String? = nil,
        externalURL: String? = nil, rootToken: String? = nil, rootPassword: String? = nil, embeddedRunners: Int = 1, logLevel: Logger.Level = .info,
        passwordCost: UInt8 = 11, schedulerInterval: Duration = .seconds(15)
    ) {
        self.host = host
        self.port = port
        self.dataDirectory = dataDirectory
        self.databaseURL = databaseURL
        self.externalURL = externalURL
        self.rootToken = rootToken
        self.rootPassword = rootPassword
        self.embeddedRunners = embeddedRunners
        self.logLevel = logLevel
        self.passwordCost = passwordCost
        self.schedulerInterval = schedulerInterval
    }

    /// The base URL without a trailing slash.
    public var baseURL: String {
        let url = externalURL ?? "http://\(host):\(port)"
        return url.hasSuffix("/") ? String(url.dropLast()) : url
    }

    public var repositoriesDirectory: URL { dataDirectory.appendingPathComponent("repositories", isDirectory: true) }
    public var tracesDirectory: URL { dataDirectory.appendingPathComponent("traces", isDirectory: true) }
    public var artifactsDirectory: URL { dataDirectory.appendingPathComponent("artifacts", isDirectory: true) }
}

extension ServerSettings: CustomStringConvertible, CustomDebugStringConvertible {
    // Settings are printed by lifecycle logs; the root credentials and the database password must not be.
    public var description: String {
        "ServerSettings(host: \(host), port: \(port), dataDirectory: \(dataDirectory.path), database: \(databaseURL == nil ? "sqlite" : "postgres"), "
            + "externalURL: \(baseURL), embeddedRunners: \(embeddedRunners))"
    }
    public var debugDescription: String { description }
}
