import Foundation
import SQLKit

/// Sign-in attempts per bucket (an account or a source address), shared by every server instance through the database.
public struct AuthAttemptRepository: Sendable {
    let database: Database

    /// Takes one attempt slot in each bucket and answers how many attempts each bucket holds since `since`, this one included.
    /// Taking the slot before counting is what makes concurrent attempts count: the n-th of them sees at least n.
    public func take(buckets: [String], since: Date, now: Date = Date()) async throws -> (ids: [Int64], counts: [String: Int]) {
        try await database.transaction { db in
            var ids: [Int64] = []
            var counts: [String: Int] = [:]
            for bucket in buckets {
                // PostgreSQL's READ COMMITTED would let concurrent attempts miss each other's uncommitted rows: serialize the
                // attempts of one bucket for the length of the transaction (SQLite's single writer already does).
                if db.dialect.name == "postgresql" {
                    try await db.raw("SELECT pg_advisory_xact_lock(hashtext(\(bind: bucket)))").run()
                }
                let row = try await db.insert(into: "auth_attempts").columns("bucket", "at").values(SQLBind(bucket), SQLBind(now.milliseconds))
                    .returning("id").first()
                if let id = try row?.decode(column: "id", as: Int64.self) { ids.append(id) }
                let count = try await db.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("auth_attempts")
                    .where("bucket", .equal, bucket).where("at", .greaterThan, since.milliseconds).first()
                counts[bucket] = try count?.decode(column: "n", as: Int.self) ?? 0
            }
            return (ids, counts)
        }
    }

    /// Gives slots back (the attempt succeeded, so it is not a failure).
    public func release(ids: [Int64]) async throws {
        guard !ids.isEmpty else { return }
        try await database.read { db in try await db.delete(from: "auth_attempts").where("id", .in, ids).run() }
    }

    /// Bans the buckets from `now` on.
    public func ban(buckets: [String], now: Date = Date()) async throws {
        try await database.read { db in
            for bucket in buckets {
                try await db.insert(into: "auth_attempts").columns("bucket", "at").values(SQLBind("ban:" + bucket), SQLBind(now.milliseconds)).run()
            }
        }
    }

    /// Whether any of the buckets was banned after `since`.
    public func isBanned(buckets: [String], since: Date) async throws -> Bool {
        guard !buckets.isEmpty else { return false }
        return try await database.read { db in
            try await db.select().column("id").from("auth_attempts").where("bucket", .in, buckets.map { "ban:" + $0 })
                .where("at", .greaterThan, since.milliseconds).first() != nil
        }
    }

    /// Forgets attempts and bans older than `before`.
    public func prune(before: Date) async throws {
        try await database.read { db in try await db.delete(from: "auth_attempts").where("at", .lessThan, before.milliseconds).run() }
    }
}
