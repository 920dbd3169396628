import Foundation
import LatchkeyCore
import SQLKit

/// What a membership belongs to.
public enum MemberSource: Sendable, Equatable {
    case group(Int64)
    case project(Int64)

    var table: String {
        switch self {
        case .group: "group_members"
        case .project: "project_members"
        }
    }

    var column: String {
        switch self {
        case .group: "namespace_id"
        case .project: "project_id"
        }
    }

    var id: Int64 {
        switch self {
        case .group(let id), .project(let id): id
        }
    }
}

/// A membership with the user it belongs to.
public struct Member: Sendable, Equatable {
    public var user: User
    public var membership: Membership

    public init(user: User, membership: Membership) {
        self.user = user
        self.membership = membership
    }
}

struct MemberRecord: Codable, Sendable {
    var userId: Int64
    var accessLevel: Int
    var expiresAt: String?
    var createdAt: Int64

    var membership: Membership {
        Membership(userID: userId, accessLevel: AccessLevel(rawValue: accessLevel) ?? .guest, expiresAt: expiresAt, createdAt: Date(milliseconds: createdAt))
    }
}

/// Direct memberships of groups and projects, and the effective level they add up to.
public struct MemberRepository: Sendable {
    let database: Database

    static func insert(_ source: MemberSource, userID: Int64, level: AccessLevel, expiresAt: String?, db: any SQLDatabase) async throws {
        do {
            try await db.insert(into: source.table)
                .columns(source.column, "user_id", "access_level", "expires_at", "created_at")
                .values(SQLBind(source.id), SQLBind(userID), SQLBind(level.rawValue), SQLBind(expiresAt), SQLBind(Date().milliseconds))
                .run()
        } catch where error.isUniqueViolation {
            throw StoreError.duplicate("member")
        }
    }

    /// Adds a member; `duplicate("member")` if the user is already a direct member.
    public func add(_ source: MemberSource, userID: Int64, level: AccessLevel, expiresAt: String?) async throws {
        try await database.read { db in try await Self.insert(source, userID: userID, level: level, expiresAt: expiresAt, db: db) }
    }

    /// Changes a member's level; `notFound` if the user is not a direct member.
    public func update(_ source: MemberSource, userID: Int64, level: AccessLevel, expiresAt: String??) async throws {
        try await database.read { db in
            guard try await Self.direct(source, userID: userID, db: db) != nil else { throw StoreError.notFound }
            let update = db.update(source.table).set("access_level", to: level.rawValue)
                .where(SQLIdentifier(source.column), .equal, SQLBind(source.id)).where("user_id", .equal, userID)
            if case .some(let expires) = expiresAt { update.set("expires_at", to: SQLBind(expires)) }
            try await update.run()
        }
    }

    public func remove(_ source: MemberSource, userID: Int64) async throws {
        try await database.read { db in
            guard try await Self.direct(source, userID: userID, db: db) != nil else { throw StoreError.notFound }
            try await db.delete(from: source.table).where(SQLIdentifier(source.column), .equal, SQLBind(source.id)).where("user_id", .equal, userID).run()
        }
    }

    /// The direct member, if the user is one.
    public func member(_ source: MemberSource, userID: Int64) async throws -> Member? {
        try await members(source, userID: userID).first
    }

    /// Direct members ordered by user id.
    public func members(_ source: MemberSource, userID: Int64? = nil) async throws -> [Member] {
        try await database.read { db in
            let query = db.select()
                .column(SQLColumn("user_id", table: "m")).column(SQLColumn("access_level", table: "m"))
                .column(SQLColumn("expires_at", table: "m")).column(SQLColumn("created_at", table: "m"), as: "member_created_at")
                .column(SQLColumn("id", table: "u")).column(SQLColumn("username", table: "u")).column(SQLColumn("name", table: "u"))
                .column(SQLColumn("email", table: "u")).column(SQLColumn("password_hash", table: "u")).column(SQLColumn("is_admin", table: "u"))
                .column(SQLColumn("is_blocked", table: "u")).column(SQLColumn("created_at", table: "u"))
                .from(SQLAlias(SQLIdentifier(source.table), as: SQLIdentifier("m")))
                .join(SQLAlias(SQLIdentifier("users"), as: SQLIdentifier("u")), method: SQLJoinMethod.inner, on: SQLColumn("id", table: "u"), .equal, SQLColumn("user_id", table: "m"))
                .where(SQLColumn(source.column, table: "m"), .equal, SQLBind(source.id))
                .orderBy(SQLColumn("user_id", table: "m"))
            if let userID { query.where(SQLColumn("user_id", table: "m"), .equal, SQLBind(userID)) }
            return try await query.all().map { row in
                let user = try row.record(UserRecord.self).user
                let level = try row.decode(column: "access_level", as: Int.self)
                let membership = Membership(
                    userID: user.id, accessLevel: AccessLevel(rawValue: level) ?? .guest, expiresAt: try row.decode(column: "expires_at", as: String?.self),
                    createdAt: Date(milliseconds: try row.decode(column: "member_created_at", as: Int64.self)))
                return Member(user: user, membership: membership)
            }
        }
    }

    static func direct(_ source: MemberSource, userID: Int64, db: any SQLDatabase) async throws -> AccessLevel? {
        try await db.select().column("access_level").from(source.table)
            .where(SQLIdentifier(source.column), .equal, SQLBind(source.id)).where("user_id", .equal, userID)
            .first().map { AccessLevel(rawValue: try $0.decode(column: "access_level", as: Int.self)) ?? .guest }
    }

    /// The direct membership's level if it grants anything today (not expired).
    static func activeDirect(_ source: MemberSource, userID: Int64, db: any SQLDatabase, now: Date) async throws -> AccessLevel? {
        try await db.select().column("access_level").from(source.table)
            .where(SQLIdentifier(source.column), .equal, SQLBind(source.id)).where("user_id", .equal, userID)
            .where(active(table: nil, now: now))
            .first().map { AccessLevel(rawValue: try $0.decode(column: "access_level", as: Int.self)) ?? .guest }
    }

    /// `expires_at IS NULL OR expires_at > today`: GitLab's `Member.active`, a membership ends at the start of its expiry day (UTC).
    static func active(table: String?, now: Date = Date()) -> any SQLExpression {
        let column: any SQLExpression = table.map { SQLColumn("expires_at", table: $0) } ?? SQLColumn("expires_at")
        return SQLGroupExpression(
            SQLBinaryExpression(
                SQLBinaryExpression(column, .is, SQLLiteral.null), .or, SQLBinaryExpression(column, .greaterThan, SQLBind(day(now)))))
    }

    /// The UTC calendar day as `expires_at` stores it (`YYYY-MM-DD`, which orders as text).
    static func day(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return String(format: "%04d-%02d-%02d", parts.year ?? 0, parts.month ?? 0, parts.day ?? 0)
    }

    /// The user's effective level on a group: the highest of its unexpired memberships of the group and its ancestors.
    public func effectiveLevel(userID: Int64, groupFullPath: String, now: Date = Date()) async throws -> AccessLevel? {
        try await database.read { db in try await Self.inheritedLevel(userID: userID, namespacePath: groupFullPath, db: db, now: now) }
    }

    /// The user's effective level on a project: the highest of unexpired direct and inherited group memberships, and personal-namespace ownership.
    public func effectiveLevel(userID: Int64, project: Project, now: Date = Date()) async throws -> AccessLevel? {
        if project.namespace.kind == .user, project.namespace.ownerID == userID { return .owner }
        return try await database.read { db in
            let direct = try await Self.activeDirect(.project(project.id), userID: userID, db: db, now: now)
            let inherited =
                project.namespace.kind == .group
                ? try await Self.inheritedLevel(userID: userID, namespacePath: project.namespace.fullPath, db: db, now: now) : nil
            return [direct, inherited].compactMap { $0 }.max()
        }
    }

    static func inheritedLevel(userID: Int64, namespacePath: String, db: any SQLDatabase, now: Date = Date()) async throws -> AccessLevel? {
        let prefixes = NamespaceRepository.pathPrefixes(namespacePath)
        return try await db.select().column(SQLColumn("access_level", table: "m")).from(SQLAlias(SQLIdentifier("group_members"), as: SQLIdentifier("m")))
            .join(SQLAlias(SQLIdentifier("namespaces"), as: SQLIdentifier("n")), method: SQLJoinMethod.inner, on: SQLColumn("id", table: "n"), .equal, SQLColumn("namespace_id", table: "m"))
            .where(SQLColumn("user_id", table: "m"), .equal, SQLBind(userID))
            .where(SQLColumn("full_path", table: "n"), .in, SQLGroupExpression(prefixes.map { SQLBind($0) }))
            .where(active(table: "m", now: now))
            .all().compactMap { AccessLevel(rawValue: try $0.decode(column: "access_level", as: Int.self)) }.max()
    }
}

extension MemberRepository {
    /// Full paths of the groups the user is an unexpired direct member of (their subgroups and projects inherit it).
    public func groupPaths(userID: Int64) async throws -> [String] {
        try await database.read { db in
            try await db.select().column(SQLColumn("full_path", table: "n")).from(SQLAlias(SQLIdentifier("group_members"), as: SQLIdentifier("m")))
                .join(SQLAlias(SQLIdentifier("namespaces"), as: SQLIdentifier("n")), method: SQLJoinMethod.inner, on: SQLColumn("id", table: "n"), .equal, SQLColumn("namespace_id", table: "m"))
                .where(SQLColumn("user_id", table: "m"), .equal, SQLBind(userID))
                .where(Self.active(table: "m"))
                .all().map { try $0.decode(column: "full_path", as: String.self) }
        }
    }
}
