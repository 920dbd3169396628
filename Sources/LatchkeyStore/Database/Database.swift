import Foundation
import Logging
import PostgresKit
import PostgresNIO
import SQLKit
import SQLiteKit
import ServiceLifecycle

/// Which database engine a `Database` talks to.
public enum DatabaseKind: String, Sendable {
    case sqlite
    case postgres
}

/// The one handle to the database: SQLite (a file, one serialised connection) or PostgreSQL (a `PostgresClient` pool).
public final class Database: Sendable {
    public let kind: DatabaseKind
    private let backend: Backend
    /// How long a statement waits for a PostgreSQL connection before it fails with `StoreError.unavailable`.
    let connectionTimeout: Duration

    private enum Backend: Sendable {
        case sqlite(SQLiteBackend)
        case postgres(PostgresClient)
    }

    /// Opens (creating if needed) an SQLite database file with WAL and foreign keys on.
    public static func sqlite(path: String, logger: Logger) async throws -> Database {
        let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        let sql = connection.sql(queryLogLevel: nil)
        for pragma in ["PRAGMA journal_mode=WAL", "PRAGMA foreign_keys=ON", "PRAGMA busy_timeout=5000", "PRAGMA synchronous=NORMAL"] {
            try await sql.raw(SQLQueryString(pragma)).run()
        }
        return Database(kind: .sqlite, backend: .sqlite(SQLiteBackend(connection: connection)))
    }

    /// Uses a PostgreSQL client; the caller must run `client` as a service.
    ///
    /// A statement that gets no connection within `connectionTimeout` (the server is down or every connection is busy)
    /// fails with `StoreError.unavailable` instead of waiting for ever.
    public static func postgres(client: PostgresClient, connectionTimeout: Duration = .seconds(5)) -> Database {
        Database(kind: .postgres, backend: .postgres(client), connectionTimeout: connectionTimeout)
    }

    /// Builds a `PostgresClient` from a `postgres://user:pass@host:port/db` URL.
    public static func postgresClient(url: String, logger: Logger, maximumConnections: Int = 20) throws -> PostgresClient {
        guard let configuration = try? SQLPostgresConfiguration(url: url) else {
            throw StoreError.invalidConfiguration("not a PostgreSQL URL")
        }
        let core = configuration.coreConfiguration
        let tls: PostgresClient.Configuration.TLS =
            switch (core.tls.isEnforced, core.tls.isAllowed) {
            case (true, _): .require(core.tls.sslContext!.configuration)
            case (_, true): .prefer(core.tls.sslContext!.configuration)
            default: .disable
            }
        var clientConfiguration: PostgresClient.Configuration
        if let host = core.host, let port = core.port {
            clientConfiguration = .init(
                host: host, port: port, username: core.username, password: core.password, database: core.database, tls: tls)
        } else if let socket = core.unixSocketPath {
            clientConfiguration = .init(unixSocketPath: socket, username: core.username, password: core.password, database: core.database)
        } else {
            throw StoreError.invalidConfiguration("PostgreSQL URL names no host")
        }
        clientConfiguration.options.maximumConnections = maximumConnections
        return PostgresClient(configuration: clientConfiguration, backgroundLogger: logger)
    }

    private init(kind: DatabaseKind, backend: Backend, connectionTimeout: Duration = .seconds(5)) {
        self.kind = kind
        self.backend = backend
        self.connectionTimeout = connectionTimeout
    }

    /// Runs `body` with a database session; statements run outside any transaction.
    public func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        switch backend {
        case .sqlite(let sqlite):
            return try await sqlite.exclusive(body)
        case .postgres(let client):
            return try await Self.withConnection(client, timeout: connectionTimeout) { connection in
                try await body(connection.sql(queryLogLevel: nil))
            }
        }
    }

    /// Runs `body` in one transaction: committed if it returns, rolled back if it throws.
    public func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        switch backend {
        case .sqlite(let sqlite):
            return try await sqlite.exclusive { db in
                try await db.raw("BEGIN IMMEDIATE").run()
                return try await Self.finish(db, body)
            }
        case .postgres(let client):
            return try await Self.withConnection(client, timeout: connectionTimeout) { connection in
                let db = connection.sql(queryLogLevel: nil)
                try await db.raw("BEGIN").run()
                return try await Self.finish(db, body)
            }
        }
    }

    /// Closes the SQLite connection (PostgreSQL's client stops with its service).
    public func close() async throws {
        if case .sqlite(let sqlite) = backend { try await sqlite.close() }
    }

    private static func finish<T: Sendable>(_ db: any SQLDatabase, _ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        do {
            let result = try await body(db)
            try await db.raw("COMMIT").run()
            return result
        } catch {
            try? await db.raw("ROLLBACK").run()
            throw error
        }
    }
}

/// One SQLite connection used by one task at a time, so transactions never interleave.
private actor SQLiteBackend {
    private let connection: SQLiteConnection
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(connection: SQLiteConnection) { self.connection = connection }

    func exclusive<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        if busy {
            await withCheckedContinuation { waiters.append($0) }
        } else {
            busy = true
        }
        defer {
            if waiters.isEmpty { busy = false } else { waiters.removeFirst().resume() }
        }
        return try await body(connection.sql(queryLogLevel: nil))
    }

    func close() async throws { try await connection.close() }
}
