import Foundation
import LatchkeyCore
import SQLKit

/// A personal access token as stored: never the token, only its digest.
public struct PersonalAccessToken: Sendable, Equatable {
    public var id: Int64
    public var userID: Int64
    public var name: String
    public var scopes: [TokenScope]
    /// `YYYY-MM-DD`, the last day the token works; nil for none.
    public var expiresAt: String?
    public var revoked: Bool
    public var createdAt: Date
    public var lastUsedAt: Date?

    /// Whether the token is past its expiry date on `now` (GitLab: expires at the start of that day, UTC).
    public func isExpired(now: Date = Date()) -> Bool {
        guard let expiresAt else { return false }
        return Self.dayFormatter.string(from: now) >= expiresAt
    }

    static let dayFormatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter
    }()
}

struct PersonalAccessTokenRecord: Codable, Sendable {
    var id: Int64
    var userId: Int64
    var name: String
    var digest: String
    var scopes: String
    var expiresAt: String?
    var revoked: Bool
    var createdAt: Int64
    var lastUsedAt: Int64?

    var token: PersonalAccessToken {
        PersonalAccessToken(
            id: id, userID: userId, name: name, scopes: scopes.split(separator: ",").compactMap { TokenScope(rawValue: String($0)) },
            expiresAt: expiresAt, revoked: revoked, createdAt: Date(milliseconds: createdAt), lastUsedAt: lastUsedAt.map(Date.init(milliseconds:)))
    }
}

/// Personal access tokens, found by the keyed digest of the presented token.
public struct PersonalAccessTokenRepository: Sendable {
    let database: Database

    public func create(userID: Int64, name: String, digest: String, scopes: [TokenScope], expiresAt: String?) async throws -> PersonalAccessToken {
        try await database.read { db in
            let row = try await db.insert(into: "personal_access_tokens")
                .columns("user_id", "name", "digest", "scopes", "expires_at", "revoked", "created_at", "last_used_at")
                .values(
                    SQLBind(userID), SQLBind(name), SQLBind(digest), SQLBind(scopes.map(\.rawValue).joined(separator: ",")), SQLBind(expiresAt),
                    SQLBind(false), SQLBind(Date().milliseconds), SQLBind(Int64?.none)
                )
                .returning("*").first()
            guard let token = try row?.record(PersonalAccessTokenRecord.self).token else { throw StoreError.corrupt("token insert") }
            return token
        }
    }

    /// The token with this digest and its user, if any.
    public func find(digest: String) async throws -> (PersonalAccessToken, User)? {
        try await database.read { db in
            guard let token = try await db.select().column("*").from("personal_access_tokens").where("digest", .equal, digest)
                .record(PersonalAccessTokenRecord.self)?.token
            else { return nil }
            guard let user = try await db.select().column("*").from("users").where("id", .equal, token.userID).record(UserRecord.self)?.user
            else { return nil }
            return (token, user)
        }
    }

    public func list(userID: Int64) async throws -> [PersonalAccessToken] {
        try await database.read { db in
            try await db.select().column("*").from("personal_access_tokens").where("user_id", .equal, userID).orderBy("id")
                .records(PersonalAccessTokenRecord.self).map(\.token)
        }
    }

    public func revoke(id: Int64) async throws {
        try await database.read { db in
            try await db.update("personal_access_tokens").set("revoked", to: true).where("id", .equal, id).run()
        }
    }
}
