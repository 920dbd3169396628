import LatchkeyCore
import SQLKit

/// Instance-wide settings as key/value text; secrets among them are sealed at rest.
public struct SettingsRepository: Sendable {
    let database: Database
    var sealer: SecretSealer? = nil

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

    /// The instance secret stored under `key`, storing `initial()` first when there is none; every instance on the database
    /// gets the same value, whichever stored it first.
    public func secret(_ key: String, orStore initial: @Sendable () throws -> String) async throws -> String {
        if let stored = try await value(key) { return try opened(stored) }
        let candidate = try initial()
        let sealed = try sealer?.seal(candidate) ?? candidate
        try await database.read { db in
            try await db.insert(into: "settings").columns("key", "value").values(SQLBind(key), SQLBind(sealed))
                .ignoringConflicts(with: ["key"])
                .run()
        }
        guard let stored = try await value(key) else { throw StoreError.corrupt("setting \(key) vanished after its insert") }
        return try opened(stored)
    }

    private func opened(_ stored: String) throws -> String {
        guard SecretSealer.isSealed(stored) else { return stored }
        guard let sealer else { throw StoreError.invalidConfiguration("setting is sealed and this store has no key to open it") }
        return try sealer.open(stored)
    }
}
