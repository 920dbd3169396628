import Foundation
import SQLKit

/// Signed-in browser sessions, kept server-side by the keyed digest of their id so that signing out (or an administrator) ends them
/// on every instance at once; the cookie alone is never enough.
public struct WebSessionRepository: Sendable {
    let database: Database

    /// Records a new signed-in session.
    public func create(digest: String, userID: Int64, expiresAt: Date, now: Date = Date()) async throws {
        try await database.read { db in
            try await db.insert(into: "web_sessions").columns("digest", "user_id", "created_at", "expires_at")
                .values(SQLBind(digest), SQLBind(userID), SQLBind(now.milliseconds), SQLBind(expiresAt.milliseconds))
                .run()
        }
    }

    /// Whether the session exists for this user and has not expired.
    public func isActive(digest: String, userID: Int64, now: Date = Date()) async throws -> Bool {
        try await database.read { db in
            try await db.select().column("user_id").from("web_sessions")
                .where("digest", .equal, digest).where("user_id", .equal, userID).where("expires_at", .greaterThan, now.milliseconds)
                .first() != nil
        }
    }

    /// Ends one session (sign-out).
    public func delete(digest: String) async throws {
        try await database.read { db in try await db.delete(from: "web_sessions").where("digest", .equal, digest).run() }
    }

    /// Ends every session of the user (blocking, password change).
    public func deleteAll(userID: Int64) async throws {
        try await database.read { db in try await db.delete(from: "web_sessions").where("user_id", .equal, userID).run() }
    }

    /// Forgets expired sessions.
    public func removeExpired(now: Date = Date()) async throws {
        try await database.read { db in try await db.delete(from: "web_sessions").where("expires_at", .lessThanOrEqual, now.milliseconds).run() }
    }
}
