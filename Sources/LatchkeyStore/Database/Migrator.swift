import Foundation
import SQLKit

/// One numbered, append-only schema change.
public struct Migration: Sendable {
    public let version: Int
    public let name: String
    public let apply: @Sendable (any SQLDatabase, DatabaseKind) async throws -> Void
    /// On SQLite: run with foreign keys off (a table rebuild must not cascade when the old table is dropped); checked before commit.
    public let rebuildsTables: Bool

    public init(
        version: Int, name: String, rebuildsTables: Bool = false, apply: @escaping @Sendable (any SQLDatabase, DatabaseKind) async throws -> Void
    ) {
        self.version = version
        self.name = name
        self.rebuildsTables = rebuildsTables
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
        try await database.write { db in
            try await db.create(table: "schema_migrations").ifNotExists()
                .column("version", type: .bigint, .primaryKey(autoIncrement: false))
                .column("name", type: .text, .notNull)
                .column("applied_at", type: .bigint, .notNull)
                .run()
        }
        var applied: [Int] = []
        for migration in migrations {
            // SQLite ignores `PRAGMA foreign_keys` inside a transaction, so it is switched around the migration's transaction.
            let foreignKeysOff = migration.rebuildsTables && database.kind == .sqlite
            let didApply: Bool
            if foreignKeysOff {
                try await database.write { db in try await db.raw("PRAGMA foreign_keys = OFF").run() }
                do {
                    didApply = try await apply(migration, to: database, checkForeignKeys: true)
                } catch {
                    try? await database.write { db in try await db.raw("PRAGMA foreign_keys = ON").run() }
                    throw error
                }
                try await database.write { db in try await db.raw("PRAGMA foreign_keys = ON").run() }
            } else {
                didApply = try await apply(migration, to: database, checkForeignKeys: false)
            }
            if didApply { applied.append(migration.version) }
        }
        return applied
    }

    /// Applies one migration in its own transaction unless it is recorded already; false when it was.
    private func apply(_ migration: Migration, to database: Database, checkForeignKeys: Bool) async throws -> Bool {
        try await database.transaction { db in
            if database.kind == .postgres {
                // Several instances may start together: serialise them on one advisory lock.
                try await db.raw("SELECT pg_advisory_xact_lock(7460381)").run()
            }
            let done = try await db.select().column("version").from("schema_migrations")
                .where("version", .equal, migration.version).first()
            guard done == nil else { return false }
            try await migration.apply(db, database.kind)
            if checkForeignKeys, try await db.raw("PRAGMA foreign_key_check").first() != nil {
                throw StoreError.corrupt("migration \(migration.version) left rows whose references are broken")
            }
            try await db.insert(into: "schema_migrations")
                .columns("version", "name", "applied_at")
                .values(SQLBind(migration.version), SQLBind(migration.name), SQLBind(Date().milliseconds))
                .run()
            return true
        }
    }
}
