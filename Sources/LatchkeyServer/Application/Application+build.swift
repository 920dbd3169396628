import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore
import Logging
import PostgresNIO
import ServiceLifecycle

/// Opens the database named by the settings; PostgreSQL's client comes back as a service to run.
public func openDatabase(_ settings: ServerSettings, logger: Logger) async throws -> (Database, (any Service)?) {
    if let url = settings.databaseURL, !url.isEmpty {
        let client = try Database.postgresClient(url: url, logger: logger)
        return (Database.postgres(client: client, connectionTimeout: settings.databaseTimeout), PostgresClientService(client: client))
    }
    try FileManager.default.createDirectory(at: settings.dataDirectory, withIntermediateDirectories: true)
    try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: settings.dataDirectory.path)
    let path = settings.dataDirectory.appendingPathComponent("latchkey.sqlite3").path
    let database = try await Database.sqlite(path: path, logger: logger)
    // The database holds digests, nonces and sealed values: readable by this user only (its -wal and -shm follow its mode).
    try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    return (database, nil)
}

/// Closes the database when the server shuts down (SQLite's connection must be closed before it is released).
public struct DatabaseLifecycle: Service, CustomStringConvertible {
    let database: Database
    public func run() async throws {
        try? await gracefulShutdown()
        try await database.close()
    }
    public var description: String { "Database" }
}

/// Runs a `PostgresClient` inside the service group.
public struct PostgresClientService: Service, CustomStringConvertible {
    let client: PostgresClient
    public func run() async throws { await client.run() }
    public var description: String { "PostgresClient" }
}

/// Builds the server: storage, migrations, first-start bootstrap, routes and background services.
///
/// `embeddedRunners` (for `serve --runners N`) are started with the server's URL and their token once the server is
/// ready, but run outside the application: the caller runs them in the same service group, after it, so that they stop
/// first and the listener keeps serving them while they drain. `onReady` runs once bootstrap is done, just before the listener opens.
public func buildApplication(
    settings: ServerSettings, embeddedRunners: EmbeddedRunners? = nil, onReady: @escaping @Sendable () async -> Void = {}
) async throws -> some ApplicationProtocol {
    var logger = Logger(label: "latchkey")
    logger.logLevel = settings.logLevel
    let (database, databaseService) = try await openDatabase(settings, logger: logger)
    // PostgresClient must run before the first query; migrations wait for it inside the service group.
    let environment = try await makeEnvironment(settings: settings, database: database, logger: logger)
    // Several instances on one PostgreSQL wake each other's long-polling runners (LISTEN/NOTIFY).
    let wakeups = settings.databaseURL.flatMap { $0.isEmpty ? nil : JobWakeups(database: database, url: $0, logger: logger) }
    let queue = wakeups.map { wakeups in JobQueue(broadcast: { await wakeups.broadcast() }) } ?? JobQueue()
    let creator = PipelineCreator(environment: environment, queue: queue)
    let router = try await buildRouter(environment: environment, creator: creator, queue: queue)
    // Services stop in reverse order: the database goes first in the list so it closes last, after every request has ended.
    var services: [any Service] = [DatabaseLifecycle(database: database)]
    if let databaseService { services.append(databaseService) }
    services.append(ScheduleRunner(environment: environment, creator: creator, interval: settings.schedulerInterval))
    services.append(JobReaper(environment: environment, queue: queue))
    services.append(DelayedJobStarter(environment: environment, queue: queue))
    services.append(DownstreamPipelineStarter(environment: environment, creator: creator))
    if let wakeups { services.append(wakeups.listener(for: queue)) }

    var app = Application(
        router: router,
        server: .latchkey(idleTimeout: settings.idleTimeout),
        configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "Latchkey"),
        services: services,
        logger: logger)
    let readyLogger = logger
    app.beforeServerStarts {
        try await Migrator().migrate(database)
        try await Bootstrap.administrator(environment: environment)
        if let embeddedRunners {
            let token = try await environment.embeddedRunnerToken()
            let url = "http://\(settings.host == "0.0.0.0" ? "127.0.0.1" : settings.host):\(settings.port)"
            let runnerID = try await environment.store.runners.list().first(where: \.embedded)?.id
            let reaper = JobReaper(environment: environment, queue: queue)
            await embeddedRunners.start(url: url, token: token) {
                if let runnerID { await reaper.failJobs(ofStoppedRunner: runnerID) }
            }
        }
        await onReady()
        readyLogger.info("Latchkey is ready", metadata: ["url": "\(settings.baseURL)", "database": "\(database.kind.rawValue)"])
    }
    return app
}

/// The environment shared by controllers; the data directory, secret and repositories are prepared here.
public func makeEnvironment(settings: ServerSettings, database: Database, logger: Logger) async throws -> ServerEnvironment {
    BrokenPipes.ignore()
    try FileManager.default.createDirectory(at: settings.dataDirectory, withIntermediateDirectories: true)
    // The data directory holds the server secret, the database and every job's files: for this user only.
    try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: settings.dataDirectory.path)
    try FileManager.default.createDirectory(at: settings.repositoriesDirectory, withIntermediateDirectories: true)
    let secret = try Bootstrap.serverSecret(in: settings.dataDirectory)
    let repositories = RepositoryStore(root: settings.repositoriesDirectory)
    try repositories.prepare()
    let environment = ServerEnvironment(
        settings: settings, store: Store(database: database, sealer: SecretSealer(secret: secret)), digester: TokenDigester(secret: secret), repositories: repositories,
        passwords: PasswordHasher(cost: settings.passwordCost), logger: logger)
    try environment.traces.prepare()
    try environment.artifacts.prepare()
    return environment
}

/// Every route, behind the error mapping and authentication.
public func buildRouter(environment: ServerEnvironment, creator: PipelineCreator? = nil, queue: JobQueue = JobQueue()) async throws -> Router<AppRequestContext> {
    let registry = try await RegistryTokenController(environment: environment, registryKeys: RegistryKeys.load(in: environment.settings.dataDirectory))
    let creator = creator ?? PipelineCreator(environment: environment, queue: queue)
    ServerMetrics.bootstrap()
    let router = Router(context: AppRequestContext.self, options: .autoGenerateHeadEndpoints)
    router.add(middleware: HeadMiddleware())
    router.add(middleware: AccessLogMiddleware())
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: ErrorMiddleware())
    router.add(middleware: GitMiddleware(git: GitHTTPController(environment: environment, pipelines: creator)))
    // Ready means the database answers: a load balancer must stop sending requests that would wait for it.
    router.get("-/readiness") { _, context in
        do {
            try await environment.store.database.ping(timeout: min(environment.settings.databaseTimeout, .seconds(2)))
            return try JSON.response(["status": "ok"])
        } catch {
            context.logger.error("readiness: the database does not answer", metadata: ["reason": "\(ServerLauncher.reason(error))"])
            var response = try JSON.response(["status": "failed", "message": "database unavailable"])
            response.status = .serviceUnavailable
            return response
        }
    }
    router.get("jwt/auth", use: registry.token)
    router.get("-/liveness") { _, _ in try JSON.response(["status": "ok"]) }
    // Runners authenticate with their own tokens in the body or JOB-TOKEN; personal tokens play no part there.
    let runnerAPI = router.group("api/v4")
    runnerAPI.addRoutes(RunnersController(environment: environment, registration: environment.registration).endpoints)
    let idTokens = IDTokenKeys(directory: environment.settings.dataDirectory)
    router.addRoutes(OIDCDiscoveryController(issuer: environment.settings.baseURL, keys: idTokens, jobTokenKeys: environment.jobTokenKeys).endpoints)
    runnerAPI.addRoutes(
        RunnerJobsController(environment: environment, queue: queue, longPoll: environment.settings.jobRequestLongPoll, idTokens: idTokens).endpoints)
    let authenticator = Authenticator(environment: environment)
    router.addRoutes(MetricsController(store: environment.store, authenticator: authenticator).endpoints)
    // GitLab serves GraphQL beside v4, at /api/graphql, authenticated by personal access token.
    router.group("api").add(middleware: GraphQLAuthenticationMiddleware(authenticator: authenticator)).addRoutes(GraphQLController(environment: environment).endpoints)
    let api = router.group("api/v4").add(middleware: AuthenticationMiddleware(authenticator: authenticator))
    // Routes a CI/CD job token may call (gitlab-compat.md §3); everywhere else a job token is ignored.
    let jobTokenAPI = api.group().add(middleware: JobTokenMiddleware(authenticator: authenticator))
    let triggers = PipelineTriggerController(environment: environment, creator: creator)
    JobTokenRoutes.add(to: jobTokenAPI, environment: environment, triggers: triggers)
    // GitLab's order on these: authenticate, then find, then authorize; an anonymous caller gets 401 before any lookup.
    let authenticatedAPI = api.group().add(middleware: AuthenticationRequiredMiddleware())
    authenticatedAPI.addRoutes(triggers.managementEndpoints)
    authenticatedAPI.addRoutes(
        VariablesController(authorizer: environment.authorizer, variables: environment.store.variables, baseURL: environment.settings.baseURL).endpoints)
    authenticatedAPI.addRoutes(ApplicationSettingsController(environment: environment).endpoints)
    authenticatedAPI.addRoutes(JobTokenScopeController(environment: environment, scope: JobTokenScopeService(environment: environment)).endpoints)
    authenticatedAPI.addRoutes(MembersController(environment: environment).endpoints)
    authenticatedAPI.addRoutes(JobsController(environment: environment, queue: queue).endpoints)
    authenticatedAPI.addRoutes(PipelineSchedulesController(environment: environment, creator: creator).endpoints)
    authenticatedAPI.addRoutes(UserRunnersController(environment: environment).endpoints)
    authenticatedAPI.addRoutes(RunnersAPIController(
            store: environment.store, repositories: environment.repositories, authorizer: environment.authorizer, baseURL: environment.settings.baseURL
        ).endpoints)
    authenticatedAPI.addRoutes(BranchesController(environment: environment, creator: creator).endpoints)
    authenticatedAPI.addRoutes(RepositoryCommitsController(environment: environment, creator: creator).endpoints)
    authenticatedAPI.addRoutes(ProtectedBranchesController(environment: environment).endpoints)
    authenticatedAPI.addRoutes(
        ProtectedTagsController(authorizer: environment.authorizer, protectedTags: environment.store.protectedTags, baseURL: environment.settings.baseURL).endpoints)
    authenticatedAPI.addRoutes(TagsController(environment: environment, creator: creator).endpoints)
    let tokens = PersonalAccessTokensController(environment: environment)
    authenticatedAPI.addRoutes(tokens.endpoints)
    // A token of any scope may read and revoke itself (GitLab's `allow_access_with_scope(all_available_scopes)`).
    router.group("api/v4").add(middleware: AuthenticationMiddleware(authenticator: authenticator, scopeRule: .ownToken))
        .add(middleware: AuthenticationRequiredMiddleware()).addRoutes(tokens.selfEndpoints)
    api.addRoutes(UsersController(environment: environment).endpoints)
    // Repository reads outside GitLab's job-token table: personal tokens and anonymous callers (public projects) only.
    api.addRoutes(RepositoryTreeController(environment: environment).endpoints)
    api.addRoutes(RepositoryCompareController(environment: environment).endpoints)
    api.addRoutes(RepositoryArchiveController(environment: environment).endpoints)
    api.addRoutes(CILintController(environment: environment, creator: creator).endpoints)
    let authenticatedWrites = api.group().add(middleware: AuthenticationRequiredMiddleware(writesOnly: true))
    authenticatedWrites.addRoutes(GroupsController(environment: environment).endpoints)
    authenticatedWrites.addRoutes(ProjectsController(environment: environment).endpoints)
    authenticatedWrites.addRoutes(PipelinesController(environment: environment, creator: creator).endpoints)
    authenticatedWrites.addRoutes(
        ResourceAccessTokensController(
            authorizer: environment.authorizer, store: environment.store, digester: environment.digester,
            host: URL(string: environment.settings.baseURL)?.host ?? "localhost"
        ).endpoints)
    authenticatedWrites.addRoutes(
        PipelineTestReportsController(authorizer: environment.authorizer, store: environment.store, artifacts: environment.artifacts).endpoints)
    api.get("version") { _, _ in try JSON.response(["version": "\(LatchkeyVersion.gitLabAPI)-latchkey", "revision": "latchkey-\(LatchkeyVersion.number)"]) }
    // The web pages answer what no route matched: added last, this middleware wraps only the router's not-found answer.
    router.add(middleware: WebMiddleware(environment: environment, queue: queue))
    return router
}

/// Sends git smart-HTTP paths to `git http-backend` before routing.
struct GitMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let git: GitHTTPController

    func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws -> Response {
        if let response = try await git.respond(to: request, context: context) { return response }
        return try await next(request, context)
    }
}

/// The embedded runners: made and run once the server is ready (they need its token and listener).
public actor EmbeddedRunners: Service, CustomStringConvertible {
    private let count: Int
    private let factory: @Sendable (_ url: String, _ token: String) -> any Service
    private var pending: [any Service]?
    private var stopped: @Sendable () async -> Void = {}

    /// `count` runners, each made by `factory` from the server's URL and the embedded runners' token.
    public init(count: Int, factory: @escaping @Sendable (_ url: String, _ token: String) -> any Service) {
        self.count = count
        self.factory = factory
    }

    /// Makes the runners; `stopped` runs once they have all stopped, while the listener still serves.
    func start(url: String, token: String, stopped: @escaping @Sendable () async -> Void) {
        pending = (0..<count).map { _ in factory(url, token) }
        self.stopped = stopped
    }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while await self.pending == nil { try await Task.sleep(for: .milliseconds(50)) }
            }
        } catch is CancellationError {
            return
        }
        guard let services = pending else { return }
        try await withThrowingDiscardingTaskGroup { group in
            for service in services { group.addTask { try await service.run() } }
        }
        await stopped()
    }

    public nonisolated var description: String { "EmbeddedRunners" }
}
