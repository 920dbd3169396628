import SQLKit

/// Instance-wide settings as key/value text.
public struct SettingsRepository: Sendable {
    let database: Database

    public func value(_ key: String) async throws -> String? {
        try await database.read { db in
            try await db.select().column("value").from("settings").where("key", .equal, key).first()?.decode(column: "value", as: String.self)
        }
    }

    public func set(_ key: String, to value: String) async throws {
        try await database.read { db in
            try await db.insert(into: "settings").columns("key", "value").values(SQLBind(key), SQLBind(value))
                .onConflict(with: ["key"]) { $0.set(excludedValueOf: "value") }
                .run()
        }
    }
}
