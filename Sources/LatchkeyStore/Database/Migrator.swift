import Foundation
import SQLKit

/// One numbered, append-only schema change.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let apply: @Sendable (any SQLDatabase, DatabaseKind) async throws -> Void

    public init(version: Int, name: String, apply: @escaping @Sendable (any SQLDatabase, DatabaseKind) async throws -> Void) {
        self.version = version
        self.name = name
        self.apply = apply
    }
}

/// Applies the migrations not yet recorded in `schema_migrations`, each in its own transaction.
public struct Migrator: Sendable {
    public let migrations: [Migration]

    public init(migrations: [Migration] = Schema.migrations) {
        self.migrations = migrations.sorted { $0.version < $1.version }
    }

    /// Brings the schema up to date; safe to run again and from several instances at once.
    @discardableResult
    public func migrate(_ database: Database) async throws -> [Int] {
        try await database.read { db in
            try await db.create(table: "schema_migrations").ifNotExists()
                .column("version", type: .bigint, .primaryKey(autoIncrement: false))
                .column("name", type: .text, .notNull)
                .column("applied_at", type: .bigint, .notNull)
                .run()
        }
        var applied: [Int] = []
        for migration in migrations {
            let didApply = try await database.transaction { db in
                if database.kind == .postgres {
                    // Several instances may start together: serialise them on one advisory lock.
                    try await db.raw("SELECT pg_advisory_xact_lock(7460381)").run()
                }
                let done = try await db.select().column("version").from("schema_migrations")
                    .where("version", .equal, migration.version).first()
                guard done == nil else { return false }
                try await migration.apply(db, database.kind)
                try await db.insert(into: "schema_migrations")
                    .columns("version", "name", "applied_at")
                    .values(SQLBind(migration.version), SQLBind(migration.name), SQLBind(Date().milliseconds))
                    .run()
                return true
            }
            if didApply { applied.append(migration.version) }
        }
        return applied
    }
}
