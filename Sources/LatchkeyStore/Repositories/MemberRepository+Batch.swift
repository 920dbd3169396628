import Foundation
import LatchkeyCore
import SQLKit

extension MemberRepository {
    /// The user's effective level on each of `projects` (absent: none), in two queries however many projects there are.
    ///
    /// The same answer as `effectiveLevel(userID:project:)` per project: the highest of the unexpired direct membership, the
    /// unexpired memberships of the project's group and its ancestors, and ownership of the personal namespace.
    public func effectiveLevels(userID: Int64, projects: [Project], now: Date = Date()) async throws -> [Int64: AccessLevel] {
        guard !projects.isEmpty else { return [:] }
        return try await database.read { db in
            let direct = try await db.select().column("project_id").column("access_level").from("project_members")
                .where("project_id", .in, projects.map(\.id)).where("user_id", .equal, userID)
                .where(Self.active(table: nil, now: now))
                .all()
            var levels: [Int64: AccessLevel] = [:]
            for row in direct {
                let level = AccessLevel(rawValue: try row.decode(column: "access_level", as: Int.self)) ?? .guest
                levels[try row.decode(column: "project_id", as: Int64.self)] = level
            }
            var groups: [String: AccessLevel] = [:]
            if projects.contains(where: { $0.namespace.kind == .group }) {
                let rows = try await db.select().column(SQLColumn("full_path", table: "n")).column(SQLColumn("access_level", table: "m"))
                    .from(SQLAlias(SQLIdentifier("group_members"), as: SQLIdentifier("m")))
                    .join(SQLAlias(SQLIdentifier("namespaces"), as: SQLIdentifier("n")), method: SQLJoinMethod.inner, on: SQLColumn("id", table: "n"), .equal, SQLColumn("namespace_id", table: "m"))
                    .where(SQLColumn("user_id", table: "m"), .equal, SQLBind(userID))
                    .where(Self.active(table: "m", now: now))
                    .all()
                for row in rows {
                    let level = AccessLevel(rawValue: try row.decode(column: "access_level", as: Int.self)) ?? .guest
                    let path = try row.decode(column: "full_path", as: String.self)
                    groups[path] = max(groups[path] ?? level, level)
                }
            }
            for project in projects {
                var best = levels[project.id]
                switch project.namespace.kind {
                case .user:
                    if project.namespace.ownerID == userID { best = .owner }
                case .group:
                    for prefix in NamespaceRepository.pathPrefixes(project.namespace.fullPath) {
                        if let level = groups[prefix] { best = max(best ?? level, level) }
                    }
                }
                levels[project.id] = best
            }
            return levels
        }
    }
}
