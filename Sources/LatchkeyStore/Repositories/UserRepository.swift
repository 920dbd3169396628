import Foundation
import LatchkeyCore
import SQLKit

struct UserRecord: Codable, Sendable {
    var id: Int64
    var username: String
    var name: String
    var email: String
    var passwordHash: String?
    var isAdmin: Bool
    var isBlocked: Bool
    var createdAt: Int64
    var isBot: Bool?

    var user: User {
        User(
            id: id, username: username, name: name, email: email, isAdmin: isAdmin, isBlocked: isBlocked, createdAt: Date(milliseconds: createdAt),
            isBot: isBot ?? false)
    }
}

/// What a new user is made of.
public struct NewUser: Sendable {
    public var username: String
    public var name: String
    public var email: String
    public var passwordHash: String?
    public var isAdmin: Bool
    /// A bot has no personal namespace and no password.
    public var isBot = false
    /// The project or group a bot's tokens are access tokens of.
    public var botSource: MemberSource?

    public init(username: String, name: String, email: String, passwordHash: String?, isAdmin: Bool, isBot: Bool = false) {
        self.username = username
        self.name = name
        self.email = email
        self.passwordHash = passwordHash
        self.isAdmin = isAdmin
        self.isBot = isBot
    }
}

extension NewUser {
    var botProjectID: Int64? { if isBot, case .project(let id) = botSource { id } else { nil } }
    var botGroupID: Int64? { if isBot, case .group(let id) = botSource { id } else { nil } }
}

/// Users and their personal namespaces.
public struct UserRepository: Sendable {
    let database: Database

    /// Migration 25: bot users (project access tokens).
    static func addBotColumn(_ db: any SQLDatabase, _ kind: DatabaseKind) async throws {
        try await db.alter(table: "users").column("is_bot", type: Schema.boolean, .notNull, .default(false)).run()
        // The one project a bot belongs to; its tokens are that project's access tokens.
        try await db.alter(table: "users").column("bot_project_id", type: .bigint).run()
        try await db.alter(table: "users").column("bot_group_id", type: .bigint).run()
    }

    /// Creates the user and its personal namespace (a bot gets none); `duplicate("username"|"email")` when taken.
    public func create(_ new: NewUser) async throws -> User {
        try await database.transaction { db in
            let takenByUser = try await db.select().column("id").from("users")
                .where(SQLFunction("LOWER", args: SQLIdentifier("username")), .equal, SQLBind(new.username.lowercased())).first() != nil
            let takenByNamespace = try await db.select().column("id").from("namespaces")
                .where(SQLFunction("LOWER", args: SQLIdentifier("full_path")), .equal, SQLBind(new.username.lowercased())).first() != nil
            if takenByUser || takenByNamespace {
                throw StoreError.duplicate("username")
            }
            if try await db.select().column("id").from("users").where(SQLFunction("LOWER", args: SQLIdentifier("email")), .equal, SQLBind(new.email.lowercased())).first() != nil {
                throw StoreError.duplicate("email")
            }
            let now = Date().milliseconds
            let row = try await db.insert(into: "users")
                .columns("username", "name", "email", "password_hash", "is_admin", "is_blocked", "created_at", "is_bot", "bot_project_id", "bot_group_id")
                .values(
                    SQLBind(new.username), SQLBind(new.name), SQLBind(new.email), SQLBind(new.isBot ? nil : new.passwordHash), SQLBind(new.isAdmin),
                    SQLBind(false), SQLBind(now), SQLBind(new.isBot), SQLBind(new.botProjectID), SQLBind(new.botGroupID)
                )
                .returning("*")
                .first()
            guard let record = try row?.record(UserRecord.self) else { throw StoreError.corrupt("user insert returned nothing") }
            if new.isBot { return record.user }
            try await db.insert(into: "namespaces")
                .columns("kind", "name", "path", "full_path", "full_name", "parent_id", "owner_id", "visibility", "description", "created_at")
                .values(
                    SQLBind(NamespaceKind.user.rawValue), SQLBind(new.name), SQLBind(new.username), SQLBind(new.username), SQLBind(new.name),
                    SQLBind(Int64?.none), SQLBind(record.id), SQLBind(Visibility.public.rawValue), SQLBind(""), SQLBind(now)
                )
                .run()
            return record.user
        }
    }

    public func find(id: Int64) async throws -> User? {
        try await database.read { db in
            try await db.select().column("*").from("users").where("id", .equal, id).record(UserRecord.self)?.user
        }
    }

    public func find(username: String) async throws -> User? {
        try await database.read { db in
            try await db.select().column("*").from("users")
                .where(SQLFunction("LOWER", args: SQLIdentifier("username")), .equal, SQLBind(username.lowercased()))
                .record(UserRecord.self)?.user
        }
    }

    /// The user and its password hash, for signing in.
    public func credentials(username: String) async throws -> (User, String?)? {
        try await database.read { db in
            guard
                let record = try await db.select().column("*").from("users")
                    .where(SQLFunction("LOWER", args: SQLIdentifier("username")), .equal, SQLBind(username.lowercased()))
                    .record(UserRecord.self)
            else { return nil }
            return (record.user, record.passwordHash)
        }
    }

    /// Users ordered by id, optionally filtered by a search over username, name and email, or by exact username.
    public func list(search: String? = nil, username: String? = nil, page: PageRequest) async throws -> Page<User> {
        var filter = UserFilter()
        filter.search = search
        filter.username = username
        filter.searchEmails = true
        return try await list(filter, page: page)
    }

    public func list(_ filter: UserFilter, page: PageRequest) async throws -> Page<User> {
        try await database.read { db in
            let query = db.select().column("*").from("users").orderBy("id", .ascending)
            if let username = filter.username {
                query.where(SQLFunction("LOWER", args: SQLIdentifier("username")), .equal, SQLBind(username.lowercased()))
            }
            if let search = filter.search, !search.isEmpty {
                // `%` and `_` in the search are literal: escaped, so a search cannot be made a wildcard.
                let escaped = search.lowercased().replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                    .replacingOccurrences(of: "_", with: "\\_")
                let pattern = SQLBind("%" + escaped + "%")
                let like = SQLRaw(" LIKE ")
                let escape = SQLRaw(" ESCAPE '\\'")
                query.where { group in
                    group.where(SQLList([SQLFunction("LOWER", args: SQLIdentifier("username")), like, pattern, escape], separator: SQLRaw("")))
                        .orWhere(SQLList([SQLFunction("LOWER", args: SQLIdentifier("name")), like, pattern, escape], separator: SQLRaw("")))
                    // Only administrators search inside e-mail addresses; anyone else matches a whole address, as GitLab does,
                    // so no one can spell out other users' addresses a character at a time.
                    if filter.searchEmails {
                        group.orWhere(SQLList([SQLFunction("LOWER", args: SQLIdentifier("email")), like, pattern, escape], separator: SQLRaw("")))
                    } else {
                        group.orWhere(SQLFunction("LOWER", args: SQLIdentifier("email")), .equal, SQLBind(search.lowercased()))
                    }
                    return group
                }
            }
            if let active = filter.active { query.where("is_blocked", .equal, !active) }
            if let blocked = filter.blocked { query.where("is_blocked", .equal, blocked) }
            if filter.adminsOnly { query.where("is_admin", .equal, true) }
            if let after = filter.createdAfter { query.where("created_at", .greaterThan, after.milliseconds) }
            if let before = filter.createdBefore { query.where("created_at", .lessThan, before.milliseconds) }
            return try await query.page(page, as: UserRecord.self, countOn: db).map(\.user)
        }
    }

    public func setPasswordHash(userID: Int64, hash: String) async throws {
        try await database.read { db in
            try await db.update("users").set("password_hash", to: hash).where("id", .equal, userID).run()
        }
    }

    public func setBlocked(userID: Int64, blocked: Bool) async throws {
        try await database.read { db in
            try await db.update("users").set("is_blocked", to: blocked).where("id", .equal, userID).run()
        }
    }

    public func count() async throws -> Int {
        try await database.read { db in
            try await db.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("users").first()?.decode(column: "n", as: Int.self) ?? 0
        }
    }
}

/// The filters of `GET /users` that Latchkey honours.
public struct UserFilter: Sendable {
    public var search: String?
    public var username: String?
    /// Whether `search` looks inside e-mail addresses (administrators); otherwise only a whole address matches.
    public var searchEmails = false
    public var active: Bool?
    public var blocked: Bool?
    public var adminsOnly = false
    public var createdAfter: Date?
    public var createdBefore: Date?

    public init() {}
}
