import Foundation
import LatchkeyCore
import SQLKit

/// A project or group access token: a personal access token of the resource's bot user, and the bot's role there.
public struct ResourceAccessToken: Sendable, Equatable {
    public var token: PersonalAccessToken
    public var accessLevel: AccessLevel
}

/// Project and group access tokens (GitLab's `ResourceAccessTokens`): each one's bot user is made with it, is a member of that
/// project or group only, and is blocked and removed from it when the token is revoked.
public struct ResourceAccessTokenRepository: Sendable {
    let database: Database

    /// Makes the bot (no namespace, no password), its membership (expiring with the token) and its token, in one transaction.
    public func create(
        _ source: MemberSource, bot: NewUser, level: AccessLevel, name: String, description: String?, digest: String, scopes: [TokenScope], expiresAt: String?
    ) async throws -> ResourceAccessToken {
        var bot = bot
        bot.isBot = true
        bot.botSource = source
        let user = try await UserRepository(database: database).create(bot)
        do {
            return try await database.transaction { db in
                try await MemberRepository.insert(source, userID: user.id, level: level, expiresAt: expiresAt, db: db)
                let token = try await PersonalAccessTokenRepository.insert(
                    db, userID: user.id, name: name, description: description, digest: digest, scopes: scopes, expiresAt: expiresAt, createdAt: Date())
                return ResourceAccessToken(token: token, accessLevel: level)
            }
        } catch {
            // No bot without its token: a half-made one would be a user nobody can see or remove.
            try? await database.write { db in try await db.delete(from: "users").where("id", .equal, user.id).run() }
            throw error
        }
    }

    /// The resource's access tokens (revoked ones too), oldest first, with their bots' roles (nil once removed).
    public func list(_ source: MemberSource) async throws -> [(token: PersonalAccessToken, accessLevel: AccessLevel?)] {
        try await database.read { db in
            let members = SQLQueryString(source.table), column = SQLQueryString(source.column), owner = SQLQueryString(source.botColumn)
            let rows = try await db.raw(
                "SELECT t.*, m.access_level AS bot_access_level FROM personal_access_tokens t JOIN users u ON u.id = t.user_id "
                    + "LEFT JOIN " + members + " m ON m.user_id = u.id AND m." + column + " = \(bind: source.id) "
                    + "WHERE u.is_bot = \(bind: true) AND u." + owner + " = \(bind: source.id) ORDER BY t.id"
            ).all()
            return try rows.map { row in
                let token = try row.decode(model: PersonalAccessTokenRecord.self, keyDecodingStrategy: ColumnNames.strategy).token
                let level = try row.decode(column: "bot_access_level", as: Int?.self).flatMap(AccessLevel.init(rawValue:))
                return (token, level)
            }
        }
    }

    /// One of the resource's access tokens.
    public func find(_ source: MemberSource, id: Int64) async throws -> (token: PersonalAccessToken, accessLevel: AccessLevel?)? {
        try await list(source).first { $0.token.id == id }
    }

    /// Revokes the token, removes its bot from the project and blocks it (GitLab deletes it; its pipelines and audit trail stay
    /// here). True when this call revoked it.
    public func revoke(_ source: MemberSource, id: Int64) async throws -> Bool {
        try await database.transaction { db in
            guard
                let row = try await db.update("personal_access_tokens").set("revoked", to: true).where("id", .equal, id).where("revoked", .equal, false)
                    .returning("user_id").first()
            else { return false }
            let botID = try row.decode(column: "user_id", as: Int64.self)
            try await db.delete(from: source.table).where(SQLIdentifier(source.column), .equal, SQLBind(source.id)).where("user_id", .equal, botID).run()
            try await db.update("users").set("is_blocked", to: true).where("id", .equal, botID).where("is_bot", .equal, true).run()
            return true
        }
    }

    /// The bot's membership follows a rotated token's new expiry.
    public func extendMembership(_ source: MemberSource, botID: Int64, expiresAt: String?) async throws {
        try await database.write { db in
            try await db.update(source.table).set("expires_at", to: SQLBind(expiresAt)).where(SQLIdentifier(source.column), .equal, SQLBind(source.id))
                .where("user_id", .equal, botID).run()
        }
    }

    /// The project or group a bot user belongs to; nil for anyone else.
    public func botSource(userID: Int64) async throws -> MemberSource? {
        try await database.read { db in
            guard let row = try await db.select().column("bot_project_id").column("bot_group_id").from("users").where("id", .equal, userID)
                .where("is_bot", .equal, true).first()
            else { return nil }
            if let project = try row.decode(column: "bot_project_id", as: Int64?.self) { return .project(project) }
            return try row.decode(column: "bot_group_id", as: Int64?.self).map(MemberSource.group)
        }
    }

    /// When a project or group goes, so do its bots' powers: every token revoked, every bot blocked.
    public func retireBots(_ source: MemberSource) async throws {
        try await database.transaction { db in
            let bots = try await db.select().column("id").from("users").where("is_bot", .equal, true)
                .where(SQLIdentifier(source.botColumn), .equal, SQLBind(source.id)).all()
                .map { try $0.decode(column: "id", as: Int64.self) }
            guard !bots.isEmpty else { return }
            try await db.update("personal_access_tokens").set("revoked", to: true).where("user_id", .in, bots).run()
            try await db.update("users").set("is_blocked", to: true).where("id", .in, bots).run()
        }
    }
}

extension ResourceAccessTokenRepository {
    /// `retireBots` for a group and every subgroup under it (deleting a group deletes them all).
    public func retireBots(underGroupPath path: String) async throws {
        let ids = try await database.read { db in
            try await db.select().column("id").from("namespaces").where("kind", .equal, NamespaceKind.group.rawValue)
                .where { $0.where("full_path", .equal, path).orWhere(ProjectRepository.startsWith("full_path", path + "/")) }
                .all().map { try $0.decode(column: "id", as: Int64.self) }
        }
        for id in ids { try await retireBots(.group(id)) }
    }
}

extension MemberSource {
    /// The `users` column naming a bot's resource.
    var botColumn: String {
        switch self {
        case .group: "bot_group_id"
        case .project: "bot_project_id"
        }
    }
}
