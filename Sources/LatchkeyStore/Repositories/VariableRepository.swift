import Foundation
import LatchkeyCore
import SQLKit

struct VariableRecord: Codable, Sendable {
    var key: String
    var value: String
    var variableType: String
    var masked: Bool
    var protected: Bool
    var raw: Bool
    var environmentScope: String
    var description: String?
    var hidden: Bool

    var variable: ProjectVariable {
        ProjectVariable(
            key: key, value: value, variableType: variableType, masked: masked, protected: protected, raw: raw, environmentScope: environmentScope,
            description: description, hidden: hidden)
    }
}

/// Whose CI/CD variables: a project's, a group's (inherited by every project below it) or the instance's (every project).
public enum VariableOwner: Sendable, Hashable {
    case project(Int64)
    case group(Int64)
    case instance

    var table: String {
        switch self {
        case .project: "ci_variables"
        case .group: "group_ci_variables"
        case .instance: "instance_ci_variables"
        }
    }

    /// The owner column and id; nil for the instance, whose table holds only its own.
    var column: (name: String, id: Int64)? {
        switch self {
        case .project(let id): ("project_id", id)
        case .group(let id): ("group_id", id)
        case .instance: nil
        }
    }

    static let tables = ["ci_variables", "group_ci_variables", "instance_ci_variables"]
}

/// The variables a job of a project inherits, each level in GitLab's order of precedence (later wins): the instance's, the
/// groups' from the outermost to the project's own group, then the project's.
public struct InheritedVariables: Sendable, Equatable {
    public var instance: [ProjectVariable]
    /// One list per group, the outermost first.
    public var groups: [[ProjectVariable]]
    public var project: [ProjectVariable]

    public init(instance: [ProjectVariable] = [], groups: [[ProjectVariable]] = [], project: [ProjectVariable] = []) {
        self.instance = instance
        self.groups = groups
        self.project = project
    }

    /// Every level, lowest precedence first.
    public var levels: [[ProjectVariable]] { [instance] + groups + [project] }

    /// Every variable of every level, whatever its scope or protection (what a trace masks).
    public var all: [ProjectVariable] { levels.flatMap { $0 } }

    /// The variables a job deploying to `environment` receives, lowest precedence first: per level, those its scope and
    /// protection admit, the most specific scope of a key last.
    public func reaching(environment: String?, refProtected: Bool) -> [ProjectVariable] {
        levels.flatMap { EnvironmentScope.reaching($0, environment: environment, refProtected: refProtected) }
    }
}

/// CI/CD variables of projects, groups and the instance; values are sealed at rest when the store has a sealer.
public struct VariableRepository: Sendable {
    let database: Database
    var sealer: SecretSealer? = nil

    private func stored(_ value: String) throws -> String { try sealer?.seal(value) ?? value }

    private func opened(_ record: VariableRecord) throws -> ProjectVariable {
        var variable = record.variable
        if let sealer { variable.value = try sealer.open(record.value) }
        return variable
    }

    /// Migration 20: variables of groups and of the instance, beside the projects' (same columns, same sealing).
    static func createInheritedTables(_ db: any SQLDatabase, _ kind: DatabaseKind) async throws {
        // On SQLite, AUTOINCREMENT: ids are never handed out again (see migration 5).
        let primaryKey: SQLColumnConstraintAlgorithm =
            kind == .sqlite ? .custom(SQLRaw("PRIMARY KEY AUTOINCREMENT")) : .primaryKey(autoIncrement: true)
        try await db.create(table: "group_ci_variables")
            .column("id", type: .bigint, primaryKey)
            .column("group_id", type: .bigint, .notNull, .references("namespaces", "id", onDelete: .cascade))
            .column("key", type: .text, .notNull)
            .column("value", type: .text, .notNull)
            .column("variable_type", type: .text, .notNull)
            .column("masked", type: Schema.boolean, .notNull)
            .column("protected", type: Schema.boolean, .notNull)
            .column("raw", type: Schema.boolean, .notNull)
            .column("environment_scope", type: .text, .notNull)
            .column("description", type: .text)
            .column("hidden", type: Schema.boolean, .notNull, .default(false))
            .column("created_at", type: .bigint, .notNull)
            .unique("group_id", "key", "environment_scope")
            .run()
        // GitLab's instance variables have no environment scope: one per key.
        try await db.create(table: "instance_ci_variables")
            .column("id", type: .bigint, primaryKey)
            .column("key", type: .text, .notNull, .unique)
            .column("value", type: .text, .notNull)
            .column("variable_type", type: .text, .notNull)
            .column("masked", type: Schema.boolean, .notNull)
            .column("protected", type: Schema.boolean, .notNull)
            .column("raw", type: Schema.boolean, .notNull)
            .column("environment_scope", type: .text, .notNull, .default(SQLLiteral.string("*")))
            .column("description", type: .text)
            .column("hidden", type: Schema.boolean, .notNull, .default(false))
            .column("created_at", type: .bigint, .notNull)
            .run()
    }

    /// Seals every value still kept as plain text (written before sealing, or without a sealer); returns how many.
    @discardableResult
    public func sealPlainValues() async throws -> Int {
        guard let sealer else { return 0 }
        return try await database.transaction { db in
            var sealed = 0
            for table in VariableOwner.tables {
                let rows = try await db.select().column("id").column("value").from(table).all()
                for row in rows {
                    let value = try row.decode(column: "value", as: String.self)
                    guard !SecretSealer.isSealed(value) else { continue }
                    try await db.update(table).set("value", to: try sealer.seal(value))
                        .where("id", .equal, try row.decode(column: "id", as: Int64.self)).run()
                    sealed += 1
                }
            }
            return sealed
        }
    }

    private func owned(_ query: SQLSelectBuilder, by owner: VariableOwner) -> SQLSelectBuilder {
        if let column = owner.column { query.where(SQLIdentifier(column.name), .equal, SQLBind(column.id)) }
        return query
    }

    public func list(_ owner: VariableOwner) async throws -> [ProjectVariable] {
        try await database.read { db in
            try await owned(db.select().column("*").from(owner.table), by: owner).orderBy("key").orderBy("environment_scope")
                .records(VariableRecord.self).map(opened)
        }
    }

    public func list(projectID: Int64) async throws -> [ProjectVariable] { try await list(.project(projectID)) }

    /// What a job of `projectID` inherits, its project inside the groups `groupIDs` (any order; personal projects have none),
    /// read in one transaction so the levels agree with each other.
    public func inherited(projectID: Int64, groupIDs: [Int64]) async throws -> InheritedVariables {
        try await database.read { db in
            let instance = try await db.select().column("*").from("instance_ci_variables").orderBy("key").records(VariableRecord.self).map(opened)
            var groups: [[ProjectVariable]] = []
            if !groupIDs.isEmpty {
                // Outermost group first (shortest full path), so a subgroup's variable comes later and wins, as in GitLab.
                let rows = try await db.raw(
                    """
                    SELECT v.*, n.full_path AS group_path FROM group_ci_variables v JOIN namespaces n ON n.id = v.group_id
                    WHERE v.group_id IN (\(binds: groupIDs)) ORDER BY LENGTH(n.full_path), v.group_id, v.key, v.environment_scope
                    """
                ).all()
                var current: String?
                for row in rows {
                    let path = try row.decode(column: "group_path", as: String.self)
                    if path != current {
                        groups.append([])
                        current = path
                    }
                    groups[groups.count - 1].append(try opened(try row.record(VariableRecord.self)))
                }
            }
            let project = try await db.select().column("*").from("ci_variables").where("project_id", .equal, projectID).orderBy("key")
                .orderBy("environment_scope").records(VariableRecord.self).map(opened)
            return InheritedVariables(instance: instance, groups: groups, project: project)
        }
    }

    public func find(_ owner: VariableOwner, key: String, environmentScope: String? = nil) async throws -> ProjectVariable? {
        try await database.read { db in
            let query = owned(db.select().column("*").from(owner.table), by: owner).where("key", .equal, key)
            if let environmentScope { query.where("environment_scope", .equal, environmentScope) }
            return try await query.orderBy("environment_scope").record(VariableRecord.self).map(opened)
        }
    }

    public func find(projectID: Int64, key: String, environmentScope: String? = nil) async throws -> ProjectVariable? {
        try await find(.project(projectID), key: key, environmentScope: environmentScope)
    }

    /// Adds a variable; `duplicate("key")` when the key (and scope) exists.
    public func create(_ owner: VariableOwner, _ variable: ProjectVariable) async throws {
        try await database.read { db in
            var columns = ["key", "value", "variable_type", "masked", "protected", "raw", "environment_scope", "description", "hidden", "created_at"]
            var values: [any Encodable & Sendable] = [
                variable.key, try stored(variable.value), variable.variableType, variable.masked, variable.protected, variable.raw,
                variable.environmentScope, variable.description, variable.hidden, Date().milliseconds,
            ]
            if let column = owner.column {
                columns.insert(column.name, at: 0)
                values.insert(column.id, at: 0)
            }
            do {
                try await db.insert(into: owner.table).columns(columns).values(values.map { SQLBind($0) }).run()
            } catch where error.isUniqueViolation {
                throw StoreError.duplicate("key")
            }
        }
    }

    public func create(projectID: Int64, _ variable: ProjectVariable) async throws { try await create(.project(projectID), variable) }

    /// Changes a variable; `hidden` is never changed (it is chosen at creation, as in GitLab). `duplicate("key")` when the
    /// new scope is taken by the same key.
    public func update(_ owner: VariableOwner, key: String, environmentScope: String, to variable: ProjectVariable) async throws {
        try await database.read { db in
            let update = db.update(owner.table)
                .set("value", to: try stored(variable.value)).set("variable_type", to: variable.variableType).set("masked", to: variable.masked)
                .set("protected", to: variable.protected).set("raw", to: variable.raw).set("environment_scope", to: variable.environmentScope)
                .set("description", to: SQLBind(variable.description))
                .where("key", .equal, key).where("environment_scope", .equal, environmentScope)
            if let column = owner.column { update.where(SQLIdentifier(column.name), .equal, SQLBind(column.id)) }
            do {
                try await update.run()
            } catch where error.isUniqueViolation {
                throw StoreError.duplicate("key")
            }
        }
    }

    public func update(projectID: Int64, key: String, environmentScope: String, to variable: ProjectVariable) async throws {
        try await update(.project(projectID), key: key, environmentScope: environmentScope, to: variable)
    }

    public func delete(_ owner: VariableOwner, key: String, environmentScope: String) async throws {
        try await database.read { db in
            let delete = db.delete(from: owner.table).where("key", .equal, key).where("environment_scope", .equal, environmentScope)
            if let column = owner.column { delete.where(SQLIdentifier(column.name), .equal, SQLBind(column.id)) }
            try await delete.run()
        }
    }

    public func delete(projectID: Int64, key: String, environmentScope: String) async throws {
        try await delete(.project(projectID), key: key, environmentScope: environmentScope)
    }
}
