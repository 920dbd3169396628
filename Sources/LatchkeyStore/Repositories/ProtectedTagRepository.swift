import Foundation
import LatchkeyCore
import SQLKit

struct ProtectedTagRecord: Codable, Sendable {
    var id: Int64
    var projectId: Int64
    var name: String
    var createAccessLevel: Int
    var createdAt: Int64

    func rule() throws -> ProtectedTag {
        guard let level = ProtectedRefAccessLevel(rawValue: createAccessLevel) else {
            throw StoreError.corrupt("protected tag \(id) has an unknown access level")
        }
        return ProtectedTag(id: id, projectID: projectId, name: name, createAccessLevel: level, createdAt: Date(milliseconds: createdAt))
    }
}

/// Protected tag rules, one per name and project.
public struct ProtectedTagRepository: Sendable {
    let database: Database

    /// Every rule of the project, oldest first.
    public func rules(projectID: Int64) async throws -> ProtectedTags {
        try await database.read { db in
            ProtectedTags(
                try await db.select().column("*").from("protected_tags").where("project_id", .equal, projectID).orderBy("id")
                    .records(ProtectedTagRecord.self).map { try $0.rule() })
        }
    }

    /// The rule with exactly this name.
    public func find(projectID: Int64, name: String) async throws -> ProtectedTag? {
        try await database.read { db in
            try await db.select().column("*").from("protected_tags").where("project_id", .equal, projectID).where("name", .equal, name)
                .record(ProtectedTagRecord.self)?.rule()
        }
    }

    /// Stores a rule; `StoreError.duplicate` when the project has one by that name.
    public func create(projectID: Int64, name: String, createAccessLevel: ProtectedRefAccessLevel) async throws -> ProtectedTag {
        try await database.read { db in
            do {
                guard
                    let record = try await db.insert(into: "protected_tags")
                        .columns("project_id", "name", "create_access_level", "created_at")
                        .values(SQLBind(projectID), SQLBind(name), SQLBind(createAccessLevel.rawValue), SQLBind(Date().milliseconds))
                        .returning("*").first()?.record(ProtectedTagRecord.self)
                else { throw StoreError.corrupt("protected tag insert") }
                return try record.rule()
            } catch where error.isUniqueViolation {
                throw StoreError.duplicate("Protected tag")
            }
        }
    }

    /// Removes a rule.
    public func delete(id: Int64, projectID: Int64) async throws {
        try await database.read { db in
            try await db.delete(from: "protected_tags").where("id", .equal, id).where("project_id", .equal, projectID).run()
        }
    }

    static func createTable(_ db: any SQLDatabase, _ kind: DatabaseKind) async throws {
        // Rule ids reach the API: SQLite must never hand a deleted one out again (see migration 5).
        let primaryKey: SQLColumnConstraintAlgorithm =
            kind == .sqlite ? .custom(SQLRaw("PRIMARY KEY AUTOINCREMENT")) : .primaryKey(autoIncrement: true)
        try await db.create(table: "protected_tags")
            .column("id", type: .bigint, primaryKey)
            .column("project_id", type: .bigint, .notNull, .references("projects", "id", onDelete: .cascade))
            .column("name", type: .text, .notNull)
            .column("create_access_level", type: .int, .notNull)
            .column("created_at", type: .bigint, .notNull)
            .unique("project_id", "name")
            .run()
    }
}
