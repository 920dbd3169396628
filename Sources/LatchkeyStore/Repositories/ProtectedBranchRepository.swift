import Foundation
import LatchkeyCore
import SQLKit

struct ProtectedBranchRecord: Codable, Sendable {
    var id: Int64
    var projectId: Int64
    var name: String
    var pushAccessLevel: Int
    var mergeAccessLevel: Int
    var allowForcePush: Bool
    var createdAt: Int64

    func rule() throws -> ProtectedBranch {
        guard let push = ProtectedRefAccessLevel(rawValue: pushAccessLevel), let merge = ProtectedRefAccessLevel(rawValue: mergeAccessLevel) else {
            throw StoreError.corrupt("protected branch \(id) has an unknown access level")
        }
        return ProtectedBranch(
            id: id, projectID: projectId, name: name, pushAccessLevel: push, mergeAccessLevel: merge, allowForcePush: allowForcePush,
            createdAt: Date(milliseconds: createdAt))
    }
}

/// What a new protected branch rule says.
public struct NewProtectedBranch: Sendable, Equatable {
    public var name: String
    public var pushAccessLevel: ProtectedRefAccessLevel
    public var mergeAccessLevel: ProtectedRefAccessLevel
    public var allowForcePush: Bool

    public init(name: String, pushAccessLevel: ProtectedRefAccessLevel = .maintainer, mergeAccessLevel: ProtectedRefAccessLevel = .maintainer, allowForcePush: Bool = false) {
        self.name = name
        self.pushAccessLevel = pushAccessLevel
        self.mergeAccessLevel = mergeAccessLevel
        self.allowForcePush = allowForcePush
    }
}

/// Protected branch rules, one per name and project.
public struct ProtectedBranchRepository: Sendable {
    let database: Database

    /// Every rule of the project, oldest first.
    public func rules(projectID: Int64) async throws -> ProtectedBranches {
        try await database.read { db in
            ProtectedBranches(
                try await db.select().column("*").from("protected_branches").where("project_id", .equal, projectID).orderBy("id")
                    .records(ProtectedBranchRecord.self).map { try $0.rule() })
        }
    }

    /// The rule with exactly this name.
    public func find(projectID: Int64, name: String) async throws -> ProtectedBranch? {
        try await database.read { db in
            try await db.select().column("*").from("protected_branches").where("project_id", .equal, projectID).where("name", .equal, name)
                .record(ProtectedBranchRecord.self)?.rule()
        }
    }

    /// Stores a rule; `StoreError.duplicate` when the project has one by that name.
    public func create(projectID: Int64, _ rule: NewProtectedBranch) async throws -> ProtectedBranch {
        try await database.read { db in
            do {
                guard
                    let record = try await db.insert(into: "protected_branches")
                        .columns("project_id", "name", "push_access_level", "merge_access_level", "allow_force_push", "created_at")
                        .values(
                            SQLBind(projectID), SQLBind(rule.name), SQLBind(rule.pushAccessLevel.rawValue), SQLBind(rule.mergeAccessLevel.rawValue),
                            SQLBind(rule.allowForcePush), SQLBind(Date().milliseconds)
                        )
                        .returning("*").first()?.record(ProtectedBranchRecord.self)
                else { throw StoreError.corrupt("protected branch insert") }
                return try record.rule()
            } catch where error.isUniqueViolation {
                throw StoreError.duplicate("Protected branch")
            }
        }
    }

    /// Changes what a rule allows; `StoreError.notFound` when it is gone.
    public func update(_ rule: ProtectedBranch) async throws -> ProtectedBranch {
        try await database.read { db in
            guard
                let record = try await db.update("protected_branches")
                    .set("push_access_level", to: rule.pushAccessLevel.rawValue).set("merge_access_level", to: rule.mergeAccessLevel.rawValue)
                    .set("allow_force_push", to: rule.allowForcePush)
                    .where("id", .equal, rule.id).where("project_id", .equal, rule.projectID)
                    .returning("*").first()?.record(ProtectedBranchRecord.self)
            else { throw StoreError.notFound }
            return try record.rule()
        }
    }

    /// Removes a rule.
    public func delete(id: Int64, projectID: Int64) async throws {
        try await database.read { db in
            try await db.delete(from: "protected_branches").where("id", .equal, id).where("project_id", .equal, projectID).run()
        }
    }

    /// The table, with one rule for every existing project's default branch: GitLab protects a new project's default branch, and
    /// until now Latchkey treated the default branch as the one protected ref. Developers keep pushing there ("partially
    /// protected", GitLab's `PROTECTION_DEV_CAN_PUSH`), so nothing that worked stops working.
    static func createTable(_ db: any SQLDatabase, _ kind: DatabaseKind) async throws {
        // Rule ids reach the API: SQLite must never hand a deleted one out again (see migration 5).
        let primaryKey: SQLColumnConstraintAlgorithm =
            kind == .sqlite ? .custom(SQLRaw("PRIMARY KEY AUTOINCREMENT")) : .primaryKey(autoIncrement: true)
        try await db.create(table: "protected_branches")
            .column("id", type: .bigint, primaryKey)
            .column("project_id", type: .bigint, .notNull, .references("projects", "id", onDelete: .cascade))
            .column("name", type: .text, .notNull)
            .column("push_access_level", type: .int, .notNull)
            .column("merge_access_level", type: .int, .notNull)
            .column("allow_force_push", type: Schema.boolean, .notNull)
            .column("created_at", type: .bigint, .notNull)
            .unique("project_id", "name")
            .run()
        let now = Date().milliseconds
        for row in try await db.select().column("id").column("default_branch").from("projects").all() {
            let projectID = try row.decode(column: "id", as: Int64.self)
            let branch = try row.decode(column: "default_branch", as: String.self)
            try await db.insert(into: "protected_branches")
                .columns("project_id", "name", "push_access_level", "merge_access_level", "allow_force_push", "created_at")
                .values(
                    SQLBind(projectID), SQLBind(branch), SQLBind(ProtectedRefAccessLevel.developer.rawValue),
                    SQLBind(ProtectedRefAccessLevel.maintainer.rawValue), SQLBind(false), SQLBind(now)
                )
                .run()
        }
    }
}
