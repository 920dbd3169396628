import Foundation
import LatchkeyCore
import SQLKit

/// A personal access token as stored: never the token, only its digest.
public struct PersonalAccessToken: Sendable, Equatable {
    public var id: Int64
    public var userID: Int64
    public var name: String
    public var description: String?
    public var scopes: [TokenScope]
    /// `YYYY-MM-DD`, the last day the token works; nil for none.
    public var expiresAt: String?
    public var revoked: Bool
    public var createdAt: Date
    public var lastUsedAt: Date?

    /// Whether the token still authenticates: neither revoked nor expired (GitLab's `active`).
    public func isActive(now: Date = Date()) -> Bool { !revoked && !isExpired(now: now) }

    /// Whether the token is past its expiry date on `now` (GitLab: expires at the start of that day, UTC).
    public func isExpired(now: Date = Date()) -> Bool {
        guard let expiresAt else { return false }
        return Self.dayFormatter.string(from: now) >= expiresAt
    }

    /// `date` as the `YYYY-MM-DD` day it falls on, UTC.
    public static func day(_ date: Date) -> String { dayFormatter.string(from: date) }

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
    var description: String?
    var digest: String
    var scopes: String
    var expiresAt: String?
    var revoked: Bool
    var createdAt: Int64
    var lastUsedAt: Int64?

    var token: PersonalAccessToken {
        PersonalAccessToken(
            id: id, userID: userId, name: name, description: description, scopes: scopes.split(separator: ",").compactMap { TokenScope(rawValue: String($0)) },
            expiresAt: expiresAt, revoked: revoked, createdAt: Date(milliseconds: createdAt), lastUsedAt: lastUsedAt.map(Date.init(milliseconds:)))
    }
}

/// Which personal access tokens a listing wants (GitLab's `PersonalAccessTokensFinder` parameters); nil means any.
public struct PersonalAccessTokenFilter: Sendable, Equatable {
    public enum State: String, Sendable { case active, inactive }

    public var userID: Int64?
    public var revoked: Bool?
    public var state: State?
    /// A case-insensitive part of the name.
    public var search: String?
    public var createdBefore: Date?
    public var createdAfter: Date?
    public var lastUsedBefore: Date?
    public var lastUsedAfter: Date?
    /// `YYYY-MM-DD` bounds on the expiry day.
    public var expiresBefore: String?
    public var expiresAfter: String?

    public init() {}
}

/// Personal access tokens, found by the keyed digest of the presented token.
public struct PersonalAccessTokenRepository: Sendable {
    let database: Database

    /// Stores a new token; `createdAt` is now unless told otherwise.
    public func create(
        userID: Int64, name: String, description: String? = nil, digest: String, scopes: [TokenScope], expiresAt: String?, createdAt: Date = Date()
    ) async throws -> PersonalAccessToken {
        try await database.read { db in
            try await Self.insert(
                db, userID: userID, name: name, description: description, digest: digest, scopes: scopes, expiresAt: expiresAt, createdAt: createdAt)
        }
    }

    static func insert(
        _ db: any SQLDatabase, userID: Int64, name: String, description: String?, digest: String, scopes: [TokenScope], expiresAt: String?,
        createdAt: Date
    ) async throws -> PersonalAccessToken {
        let row = try await db.insert(into: "personal_access_tokens")
            .columns("user_id", "name", "description", "digest", "scopes", "expires_at", "revoked", "created_at", "last_used_at")
            .values(
                SQLBind(userID), SQLBind(name), SQLBind(description), SQLBind(digest), SQLBind(scopes.map(\.rawValue).joined(separator: ",")),
                SQLBind(expiresAt), SQLBind(false), SQLBind(createdAt.milliseconds), SQLBind(Int64?.none)
            )
            .returning("*").first()
        guard let token = try row?.record(PersonalAccessTokenRecord.self).token else { throw StoreError.corrupt("token insert") }
        return token
    }

    /// The token with this digest and its user, if any.
    public func find(digest: String) async throws -> (PersonalAccessToken, User)? {
        // One query: the token and its user, joined.
        try await database.read { db in
            guard
                let row = try await db.select().column(SQLColumn(SQLLiteral.all, table: SQLIdentifier("t"))).columns(of: "u", JoinedColumns.users, prefix: "u_")
                    .from(SQLAlias(SQLIdentifier("personal_access_tokens"), as: SQLIdentifier("t")))
                    .join(SQLAlias(SQLIdentifier("users"), as: SQLIdentifier("u")), method: SQLJoinMethod.inner, on: SQLColumn("id", table: "u"), .equal, SQLColumn("user_id", table: "t"))
                    .where(SQLColumn("digest", table: "t"), .equal, SQLBind(digest))
                    .first()
            else { return nil }
            return (try row.record(PersonalAccessTokenRecord.self).token, try row.record(UserRecord.self, prefix: "u_").user)
        }
    }

    /// The token with this id, if any.
    public func find(id: Int64) async throws -> PersonalAccessToken? {
        try await database.read { db in
            try await db.select().column("*").from("personal_access_tokens").where("id", .equal, id).record(PersonalAccessTokenRecord.self)?.token
        }
    }

    public func list(userID: Int64) async throws -> [PersonalAccessToken] {
        try await database.read { db in
            try await db.select().column("*").from("personal_access_tokens").where("user_id", .equal, userID).orderBy("id")
                .records(PersonalAccessTokenRecord.self).map(\.token)
        }
    }

    /// One page of the tokens the filter admits, by id; `today` (`YYYY-MM-DD`, UTC) decides which have expired.
    public func list(_ filter: PersonalAccessTokenFilter, today: String, page: PageRequest) async throws -> Page<PersonalAccessToken> {
        try await database.read { db in
            let query = db.select().column("*").from("personal_access_tokens")
            if let userID = filter.userID { query.where("user_id", .equal, userID) }
            if let revoked = filter.revoked { query.where("revoked", .equal, revoked) }
            switch filter.state {
            case .active?:
                // Expired from the start of its expiry day, as `PersonalAccessToken.isExpired`.
                query.where("revoked", .equal, false).where { $0.where("expires_at", .is, SQLLiteral.null).orWhere("expires_at", .greaterThan, today) }
            case .inactive?:
                query.where { $0.where("revoked", .equal, true).orWhere("expires_at", .lessThanOrEqual, today) }
            case nil:
                break
            }
            if let search = filter.search, !search.isEmpty {
                query.where(SQLFunction("LOWER", args: SQLIdentifier("name")), .like, SQLBind("%" + search.lowercased() + "%"))
            }
            if let date = filter.createdBefore { query.where("created_at", .lessThanOrEqual, date.milliseconds) }
            if let date = filter.createdAfter { query.where("created_at", .greaterThanOrEqual, date.milliseconds) }
            if let date = filter.lastUsedBefore { query.where("last_used_at", .lessThanOrEqual, date.milliseconds) }
            if let date = filter.lastUsedAfter { query.where("last_used_at", .greaterThanOrEqual, date.milliseconds) }
            if let day = filter.expiresBefore { query.where("expires_at", .lessThan, day) }
            if let day = filter.expiresAfter { query.where("expires_at", .greaterThan, day) }
            return try await query.orderBy("id").page(page, as: PersonalAccessTokenRecord.self, countOn: db).map(\.token)
        }
    }

    /// Revokes the token; true when this call revoked it (false when it was revoked already or does not exist).
    @discardableResult
    public func revoke(id: Int64) async throws -> Bool {
        try await database.read { db in
            let rows = try await db.update("personal_access_tokens").set("revoked", to: true).where("id", .equal, id).where("revoked", .equal, false)
                .returning("id").all()
            return !rows.isEmpty
        }
    }

    /// Revokes the token and stores its successor (same user, name, description and scopes) in one transaction; nil when the token was
    /// revoked already, so two concurrent rotations cannot both succeed.
    public func rotate(id: Int64, digest: String, expiresAt: String?) async throws -> PersonalAccessToken? {
        try await database.transaction { db in
            guard
                let old = try await db.update("personal_access_tokens").set("revoked", to: true).where("id", .equal, id).where("revoked", .equal, false)
                    .returning("*").first()?.record(PersonalAccessTokenRecord.self).token
            else { return nil }
            return try await Self.insert(
                db, userID: old.userID, name: old.name, description: old.description, digest: digest, scopes: old.scopes, expiresAt: expiresAt,
                createdAt: Date())
        }
    }

    /// Records a use of the token at `date`, at most once per `interval` (GitLab refreshes `last_used_at` every 10 minutes).
    public func markUsed(id: Int64, at date: Date = Date(), interval: Duration = .seconds(600)) async throws {
        let now = date.milliseconds
        let threshold = now - interval.components.seconds * 1000
        // Read first: most requests find it recorded within the interval and need no write (and no wait for the writer).
        let recent = try await database.read { db in
            try await db.select().column("id").from("personal_access_tokens").where("id", .equal, id).where("last_used_at", .greaterThanOrEqual, threshold).first()
        }
        guard recent == nil else { return }
        try await database.write { db in
            try await db.update("personal_access_tokens").set("last_used_at", to: now).where("id", .equal, id)
                .where { $0.where("last_used_at", .is, SQLLiteral.null).orWhere("last_used_at", .lessThan, threshold) }
                .run()
        }
    }
}
