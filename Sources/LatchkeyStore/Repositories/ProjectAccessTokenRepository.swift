import Foundation
import LatchkeyCore
import SQLKit

/// A project access token: a personal access token of the project's bot user, and the bot's role in that project.
public struct ProjectAccessToken: Sendable, Equatable {
    public var token: PersonalAccessToken
    public var accessLevel: AccessLevel
}

/// Project access tokens (GitLab's `ResourceAccessTokens`): each one's bot user is made with it, is a member of that project
/// only, and is blocked and removed from the project when the token is revoked.
public struct ProjectAccessTokenRepository: Sendable {
    let database: Database

    /// Makes the bot (no namespace, no password), its membership (expiring with the token) and its token, in one transaction.
    public func create(
        projectID: Int64, bot: NewUser, level: AccessLevel, name: String, description: String?, digest: String, scopes: [TokenScope], expiresAt: String?
    ) async throws -> ProjectAccessToken {
        var bot = bot
        bot.isBot = true
        bot.botProjectID = projectID
        let user = try await UserRepository(database: database).create(bot)
        do {
            return try await database.transaction { db in
                try await MemberRepository.insert(.project(projectID), userID: user.id, level: level, expiresAt: expiresAt, db: db)
                let token = try await PersonalAccessTokenRepository.insert(
                    db, userID: user.id, name: name, description: description, digest: digest, scopes: scopes, expiresAt: expiresAt, createdAt: Date())
                return ProjectAccessToken(token: token, accessLevel: level)
            }
        } catch {
            // No bot without its token: a half-made one would be a user nobody can see or remove.
            try? await database.write { db in try await db.delete(from: "users").where("id", .equal, user.id).run() }
            throw error
        }
    }

    /// The project's access tokens (revoked ones too), oldest first, with their bots' roles (nil once removed).
    public func list(projectID: Int64) async throws -> [(token: PersonalAccessToken, accessLevel: AccessLevel?)] {
        try await database.read { db in
            let rows = try await db.raw(
                """
                SELECT t.*, m.access_level AS bot_access_level FROM personal_access_tokens t JOIN users u ON u.id = t.user_id
                LEFT JOIN project_members m ON m.user_id = u.id AND m.project_id = \(bind: projectID)
                WHERE u.is_bot = \(bind: true) AND u.bot_project_id = \(bind: projectID) ORDER BY t.id
                """
            ).all()
            return try rows.map { row in
                let token = try row.decode(model: PersonalAccessTokenRecord.self, keyDecodingStrategy: ColumnNames.strategy).token
                let level = try row.decode(column: "bot_access_level", as: Int?.self).flatMap(AccessLevel.init(rawValue:))
                return (token, level)
            }
        }
    }

    /// One of the project's access tokens.
    public func find(projectID: Int64, id: Int64) async throws -> (token: PersonalAccessToken, accessLevel: AccessLevel?)? {
        try await list(projectID: projectID).first { $0.token.id == id }
    }

    /// Revokes the token, removes its bot from the project and blocks it (GitLab deletes it; its pipelines and audit trail stay
    /// here). True when this call revoked it.
    public func revoke(projectID: Int64, id: Int64) async throws -> Bool {
        try await database.transaction { db in
            guard
                let row = try await db.update("personal_access_tokens").set("revoked", to: true).where("id", .equal, id).where("revoked", .equal, false)
                    .returning("user_id").first()
            else { return false }
            let botID = try row.decode(column: "user_id", as: Int64.self)
            try await db.delete(from: "project_members").where("project_id", .equal, projectID).where("user_id", .equal, botID).run()
            try await db.update("users").set("is_blocked", to: true).where("id", .equal, botID).where("is_bot", .equal, true).run()
            return true
        }
    }

    /// The bot's membership follows a rotated token's new expiry.
    public func extendMembership(projectID: Int64, botID: Int64, expiresAt: String?) async throws {
        try await database.write { db in
            try await db.update("project_members").set("expires_at", to: SQLBind(expiresAt)).where("project_id", .equal, projectID).where("user_id", .equal, botID)
                .run()
        }
    }

    /// When a project goes, so do its bots' powers: every token revoked, every bot blocked.
    public func retireBots(projectID: Int64) async throws {
        try await database.transaction { db in
            let bots = try await db.select().column("id").from("users").where("is_bot", .equal, true).where("bot_project_id", .equal, projectID).all()
                .map { try $0.decode(column: "id", as: Int64.self) }
            guard !bots.isEmpty else { return }
            try await db.update("personal_access_tokens").set("revoked", to: true).where("user_id", .in, bots).run()
            try await db.update("users").set("is_blocked", to: true).where("id", .in, bots).run()
        }
    }
}
