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

/// Project CI/CD variables; values are sealed at rest when the store has a sealer.
public struct VariableRepository: Sendable {
    let database: Database
    var sealer: SecretSealer? = nil

    private func stored(_ value: String) throws -> String { try sealer?.seal(value) ?? value }

    private func opened(_ record: VariableRecord) throws -> ProjectVariable {
        var variable = record.variable
        if let sealer { variable.value = try sealer.open(record.value) }
        return variable
    }

    /// Seals every value still kept as plain text (written before sealing, or without a sealer); returns how many.
    @discardableResult
    public func sealPlainValues() async throws -> Int {
        guard let sealer else { return 0 }
        return try await database.transaction { db in
            let rows = try await db.select().column("id").column("value").from("ci_variables").all()
            var sealed = 0
            for row in rows {
                let value = try row.decode(column: "value", as: String.self)
                guard !SecretSealer.isSealed(value) else { continue }
                try await db.update("ci_variables").set("value", to: try sealer.seal(value))
                    .where("id", .equal, try row.decode(column: "id", as: Int64.self)).run()
                sealed += 1
            }
            return sealed
        }
    }

    public func list(projectID: Int64) async throws -> [ProjectVariable] {
        try await database.read { db in
            try await db.select().column("*").from("ci_variables").where("project_id", .equal, projectID).orderBy("key").records(VariableRecord.self).map(opened)
        }
    }

    public func find(projectID: Int64, key: String, environmentScope: String? = nil) async throws -> ProjectVariable? {
        try await database.read { db in
            let query = db.select().column("*").from("ci_variables").where("project_id", .equal, projectID).where("key", .equal, key)
            if let environmentScope { query.where("environment_scope", .equal, environmentScope) }
            return try await query.record(VariableRecord.self).map(opened)
        }
    }

    /// Adds a variable; `duplicate("key")` when the key (and scope) exists.
    public func create(projectID: Int64, _ variable: ProjectVariable) async throws {
        try await database.read { db in
            do {
                try await db.insert(into: "ci_variables")
                    .columns(
                        "project_id", "key", "value", "variable_type", "masked", "protected", "raw", "environment_scope", "description", "hidden", "created_at"
                    )
                    .values(
                        SQLBind(projectID), SQLBind(variable.key), SQLBind(try stored(variable.value)), SQLBind(variable.variableType), SQLBind(variable.masked),
                        SQLBind(variable.protected), SQLBind(variable.raw), SQLBind(variable.environmentScope), SQLBind(variable.description),
                        SQLBind(variable.hidden), SQLBind(Date().milliseconds)
                    )
                    .run()
            } catch where error.isUniqueViolation {
                throw StoreError.duplicate("key")
            }
        }
    }

    /// Changes a variable; `hidden` is never changed (it is chosen at creation, as in GitLab).
    public func update(projectID: Int64, key: String, environmentScope: String, to variable: ProjectVariable) async throws {
        try await database.read { db in
            try await db.update("ci_variables")
                .set("value", to: try stored(variable.value)).set("variable_type", to: variable.variableType).set("masked", to: variable.masked)
                .set("protected", to: variable.protected).set("raw", to: variable.raw).set("environment_scope", to: variable.environmentScope)
                .set("description", to: SQLBind(variable.description))
                .where("project_id", .equal, projectID).where("key", .equal, key).where("environment_scope", .equal, environmentScope)
                .run()
        }
    }

    public func delete(projectID: Int64, key: String, environmentScope: String) async throws {
        try await database.read { db in
            try await db.delete(from: "ci_variables").where("project_id", .equal, projectID).where("key", .equal, key)
                .where("environment_scope", .equal, environmentScope).run()
        }
    }
}
