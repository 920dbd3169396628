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
        return (Database.postgres(client: client), PostgresClientService(client: client))
    }
    try FileManager.default.createDirectory(at: settings.dataDirectory, withIntermediateDirectories: true)
    return (try await Database.sqlite(path: settings.dataDirectory.appendingPathComponent("latchkey.sqlite3").path, logger: logger), nil)
}

/// Runs a `PostgresClient` inside the service group.
public struct PostgresClientService: Service {
    let client: PostgresClient
    public func run() async throws { await client.run() }
}

/// Builds the server: storage, migrations, first-start bootstrap, routes and background services.
public func buildApplication(settings: ServerSettings, extraServices: [any Service] = []) async throws -> some ApplicationProtocol {
    var logger = Logger(label: "latchkey")
    logger.logLevel = settings.logLevel
    let (database, databaseService) = try await openDatabase(settings, logger: logger)
    // PostgresClient must run before the first query; migrations wait for it inside the service group.
    let environment = try await makeEnvironment(settings: settings, database: database, logger: logger)
    let creator = PipelineCreator(environment: environment)
    let router = buildRouter(environment: environment, creator: creator)
    var services: [any Service] = []
    if let databaseService { services.append(databaseService) }
    services.append(ScheduleRunner(environment: environment, creator: creator, interval: settings.schedulerInterval))
    services.append(contentsOf: extraServices)
    var app = Application(
        router: router,
        configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "Latchkey"),
        services: services,
        logger: logger)
    let readyLogger = logger
    app.beforeServerStarts {
        try await Migrator().migrate(database)
        try await Bootstrap.administrator(environment: environment)
        readyLogger.info("Latchkey is ready", metadata: ["url": "\(settings.baseURL)", "database": "\(database.kind.rawValue)"])
    }
    return app
}

/// The environment shared by controllers; the data directory, secret and repositories are prepared here.
public func makeEnvironment(settings: ServerSettings, database: Database, logger: Logger) async throws -> ServerEnvironment {
    try FileManager.default.createDirectory(at: settings.dataDirectory, withIntermediateDirectories: true)
    try FileManager.default.createDirectory(at: settings.repositoriesDirectory, withIntermediateDirectories: true)
    let secret = try Bootstrap.serverSecret(in: settings.dataDirectory)
    let repositories = RepositoryStore(root: settings.repositoriesDirectory)
    try repositories.prepare()
    return ServerEnvironment(
        settings: settings, store: Store(database: database), digester: TokenDigester(secret: secret), repositories: repositories,
        passwords: PasswordHasher(cost: settings.passwordCost), logger: logger)
}

/// Every route, behind the error mapping and authentication.
public func buildRouter(environment: ServerEnvironment, creator: PipelineCreator? = nil) -> Router<AppRequestContext> {
    let creator = creator ?? PipelineCreator(environment: environment)
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: ErrorMiddleware())
    router.add(middleware: GitMiddleware(git: GitHTTPController(environment: environment, pipelines: creator)))
    router.get("-/readiness") { _, _ in try JSON.response(["status": "ok"]) }
    router.get("-/liveness") { _, _ in try JSON.response(["status": "ok"]) }
    let api = router.group("api/v4").add(middleware: AuthenticationMiddleware(authenticator: Authenticator(environment: environment)))
    api.addRoutes(UsersController(environment: environment).endpoints)
    api.addRoutes(GroupsController(environment: environment).endpoints)
    api.addRoutes(ProjectsController(environment: environment).endpoints)
    api.addRoutes(MembersController(environment: environment).endpoints)
    api.addRoutes(RepositoryController(environment: environment).endpoints)
    api.addRoutes(PipelinesController(environment: environment, creator: creator).endpoints)
    api.addRoutes(JobsController(environment: environment).endpoints)
    api.addRoutes(PipelineSchedulesController(environment: environment, creator: creator).endpoints)
    api.get("version") { _, _ in try JSON.response(["version": "17.11.0-latchkey", "revision": "latchkey"]) }
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
