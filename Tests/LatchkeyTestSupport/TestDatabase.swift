import Foundation
import LatchkeyStore
import Logging
import PostgresNIO
import Testing

/// The databases a store or API test runs against: SQLite always, PostgreSQL when `LATCHKEY_TEST_POSTGRES_URL` is set.
public enum TestBackend: String, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    public static var all: [TestBackend] {
        ProcessInfo.processInfo.environment["LATCHKEY_TEST_POSTGRES_URL"].map { $0.isEmpty ? [.sqlite] : [.sqlite, .postgres] } ?? [.sqlite]
    }

    public var testDescription: String { rawValue }
}

/// Runs `body` with a fresh, migrated database: a new SQLite file in a temporary directory, or a new PostgreSQL database.
public func withTestDatabase<T: Sendable>(_ backend: TestBackend, _ body: @Sendable (Database, URL) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("latchkey-test-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    var logger = Logger(label: "latchkey.test")
    logger.logLevel = .warning
    switch backend {
    case .sqlite:
        let database = try await Database.sqlite(path: directory.appendingPathComponent("test.sqlite3").path, logger: logger)
        try await Migrator().migrate(database)
        do {
            let result = try await body(database, directory)
            try await database.close()
            return result
        } catch {
            try? await database.close()
            throw error
        }
    case .postgres:
        guard let adminURL = ProcessInfo.processInfo.environment["LATCHKEY_TEST_POSTGRES_URL"] else { throw TestSetupError.noPostgres }
        let name = "latchkey_test_" + UUID().uuidString.prefix(8).lowercased()
        try await withPostgres(url: adminURL, logger: logger) { database in
            try await database.read { db in try await db.raw("CREATE DATABASE \(ident: name)").run() }
        }
        let url = replaceDatabase(in: adminURL, with: name)
        let outcome: Result<T, any Error>
        do {
            outcome = .success(try await withPostgres(url: url, logger: logger) { database in
                try await Migrator().migrate(database)
                return try await body(database, directory)
            })
        } catch {
            outcome = .failure(error)
        }
        // Dropped before returning, so parallel tests never pile up databases or connections.
        try? await withPostgres(url: adminURL, logger: logger) { database in
            try await database.read { db in try await db.raw("DROP DATABASE IF EXISTS \(ident: name) WITH (FORCE)").run() }
        }
        return try outcome.get()
    }
}

/// Runs a `PostgresClient` for the length of `body`.
func withPostgres<T: Sendable>(url: String, logger: Logger, _ body: @Sendable (Database) async throws -> T) async throws -> T {
    // A few connections per test are plenty, and keep parallel tests under the server's connection limit.
    let client = try Database.postgresClient(url: url, logger: logger, maximumConnections: 3)
    return try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask {
            await client.run()
            return nil
        }
        // Dozens of tests share one machine's two cores: a connection can take far longer than the server's 5 s to free up,
        // which is load, not the database being down (the down-database tests set their own short bound).
        let result = try await body(Database.postgres(client: client, connectionTimeout: .seconds(120)))
        group.cancelAll()
        return result
    }
}

func replaceDatabase(in url: String, with name: String) -> String {
    guard var components = URLComponents(string: url) else { return url }
    components.path = "/" + name
    return components.string ?? url
}

enum TestSetupError: Error {
    case noPostgres
}
