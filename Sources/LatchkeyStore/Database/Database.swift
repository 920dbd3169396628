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

/// The one handle to the database: SQLite (a file: one writer connection and a pool of readers, WAL) or PostgreSQL (a
/// `PostgresClient` pool).
public final class Database: Sendable {
    public let kind: DatabaseKind
    private let backend: Backend
    /// How long a statement waits for a PostgreSQL connection before it fails with `StoreError.unavailable`.
    let connectionTimeout: Duration

    private enum Backend: Sendable {
        case sqlite(writer: SQLiteBackend, readers: SQLiteReaderPool)
        case postgres(PostgresClient)
    }

    /// Opens (creating if needed) an SQLite database file with WAL and foreign keys on: one connection for every write and
    /// `readers` read-only connections.
    ///
    /// In WAL mode a reader sees the last committed state and never waits for the writer, so reads go on while a transaction
    /// holds the write lock. Writes are serialised on the writer in this process, so no statement ever sits in SQLite's busy
    /// handler behind another of ours.
    public static func sqlite(path: String, logger: Logger, readers: Int = 4) async throws -> Database {
        let writer = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        let sql = writer.sql(queryLogLevel: nil)
        for pragma in ["PRAGMA journal_mode=WAL", "PRAGMA foreign_keys=ON", "PRAGMA busy_timeout=5000", "PRAGMA synchronous=NORMAL"] {
            try await sql.raw(SQLQueryString(pragma)).run()
        }
        var readerConnections: [SQLiteConnection] = []
        do {
            for _ in 0..<max(1, readers) {
                let reader = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
                readerConnections.append(reader)
                // `query_only`: a statement that writes fails on a reader instead of taking the write lock from the writer.
                for pragma in ["PRAGMA foreign_keys=ON", "PRAGMA busy_timeout=5000", "PRAGMA query_only=ON"] {
                    try await reader.sql(queryLogLevel: nil).raw(SQLQueryString(pragma)).run()
                }
            }
        } catch {
            for connection in readerConnections + [writer] { try? await connection.close() }
            throw error
        }
        return Database(kind: .sqlite, backend: .sqlite(writer: SQLiteBackend(connection: writer), readers: SQLiteReaderPool(readerConnections)))
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
    ///
    /// On SQLite the session is a reader's; a `body` that writes is run again, from its start, on the writer (a reader refuses
    /// the first write before it changes anything, and what ran before it only read). Code that knows it writes calls `write`.
    public func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        switch backend {
        case .sqlite(let writer, let readers):
            do {
                return try await readers.withConnection { connection in try await body(connection.sql(queryLogLevel: nil)) }
            } catch let error as SQLiteError where error.reason == .readOnly {
                return try await writer.exclusive(body)
            }
        case .postgres(let client):
            return try await Self.withConnection(client, timeout: connectionTimeout) { connection in
                try await body(connection.sql(queryLogLevel: nil))
            }
        }
    }

    /// Runs `body` with a session that may write, outside any transaction (on SQLite, the writer connection).
    public func write<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        switch backend {
        case .sqlite(let writer, _):
            return try await writer.exclusive(body)
        case .postgres(let client):
            return try await Self.withConnection(client, timeout: connectionTimeout) { connection in
                try await body(connection.sql(queryLogLevel: nil))
            }
        }
    }

    /// Runs `body` in one transaction: committed if it returns, rolled back if it throws.
    public func transaction<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        switch backend {
        case .sqlite(let writer, _):
            return try await writer.exclusive { db in
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

    /// Closes the SQLite connections (PostgreSQL's client stops with its service).
    public func close() async throws {
        if case .sqlite(let writer, let readers) = backend {
            try await readers.close()
            try await writer.close()
        }
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

/// SQLite's read-only connections, each used by one task at a time; a task waits only when every reader is busy.
private actor SQLiteReaderPool {
    private var idle: [SQLiteConnection]
    private let all: [SQLiteConnection]
    private var waiters: [CheckedContinuation<SQLiteConnection, Never>] = []

    init(_ connections: [SQLiteConnection]) {
        idle = connections
        all = connections
    }

    private func acquire() async -> SQLiteConnection {
        if let connection = idle.popLast() { return connection }
        return await withCheckedContinuation { waiters.append($0) }
    }

    private func release(_ connection: SQLiteConnection) {
        if waiters.isEmpty { idle.append(connection) } else { waiters.removeFirst().resume(returning: connection) }
    }

    nonisolated func withConnection<T: Sendable>(_ body: @Sendable (SQLiteConnection) async throws -> T) async throws -> T {
        let connection = await acquire()
        do {
            let result = try await body(connection)
            await release(connection)
            return result
        } catch {
            await release(connection)
            throw error
        }
    }

    func close() async throws {
        for connection in all { try await connection.close() }
    }
}
