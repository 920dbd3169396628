import Foundation
import Hummingbird
import HummingbirdTesting
import LatchkeyCore
import LatchkeyServer
import LatchkeyStore
import Logging

/// Runs `body` against two in-process servers over one fresh database, each with its own connections (its own SQLite
/// handles, or its own `PostgresClient`), as two instances behind a load balancer: what one changes the other must see.
public func withTwoTestServers<T: Sendable>(
    _ backend: TestBackend = .sqlite, _ body: @Sendable (TestServer, any TestClientProtocol, any TestClientProtocol) async throws -> T
) async throws -> T {
    return try await withTestDatabase(backend) { database, directory in
        var logger = Logger(label: "latchkey.test")
        logger.logLevel = .warning
        let rootToken = SecretToken.mint(.personalAccess).value
        var settings = ServerSettings(dataDirectory: directory, rootToken: rootToken, rootPassword: "root-password", embeddedRunners: 0, logLevel: .warning, passwordCost: 4)
        settings.externalURL = "http://latchkey.test"
        let (settingsA, loggerA) = (settings, logger)
        let first = try await makeEnvironment(settings: settings, database: database, logger: logger)
        try await bootstrapAdministrator(environment: first)
        let server = TestServer(environment: first, rootToken: rootToken)
        let appA = Application(router: try await buildRouter(environment: first), logger: logger)
        return try await withSecondHandle(on: database, backend: backend, directory: directory, logger: loggerA) { other in
            // Same data directory: the same server secret, so both instances digest tokens alike.
            let second = try await makeEnvironment(settings: settingsA, database: other, logger: loggerA)
            let appB = Application(router: try await buildRouter(environment: second), logger: loggerA)
            return try await appA.test(.router) { clientA in
                try await appB.test(.router) { clientB in try await body(server, clientA, clientB) }
            }
        }
    }
}

/// A second `Database` on the database `database` uses.
private func withSecondHandle<T: Sendable>(
    on database: Database, backend: TestBackend, directory: URL, logger: Logger, _ body: @Sendable (Database) async throws -> T
) async throws -> T {
    switch backend {
    case .sqlite:
        let other = try await Database.sqlite(path: directory.appendingPathComponent("test.sqlite3").path, logger: logger)
        do {
            let result = try await body(other)
            try await other.close()
            return result
        } catch {
            try? await other.close()
            throw error
        }
    case .postgres:
        guard let adminURL = ProcessInfo.processInfo.environment["LATCHKEY_TEST_POSTGRES_URL"] else { throw TestSetupError.noPostgres }
        let name = try await database.read { db in try await db.raw("SELECT current_database() AS name").first()?.decode(column: "name", as: String.self) }
        guard let name else { throw TestSetupError.noPostgres }
        return try await withPostgres(url: replaceDatabase(in: adminURL, with: name), logger: logger, body)
    }
}
