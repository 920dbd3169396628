import Foundation
import LatchkeyCore
import SQLKit

struct RunnerRecord: Codable, Sendable {
    var id: Int64
    var description: String
    var tokenDigest: String
    var tokenNonce: String
    var tags: String
    var runUntagged: Bool
    var locked: Bool
    var active: Bool
    var embedded: Bool
    var version: String
    var contactedAt: Int64?
    var createdAt: Int64

    var runner: Runner {
        Runner(
            id: id, description: description, tags: tags.split(separator: ",").map(String.init), runUntagged: runUntagged, locked: locked, active: active,
            embedded: embedded, version: version, contactedAt: contactedAt.map(Date.init(milliseconds:)), createdAt: Date(milliseconds: createdAt),
            tokenNonce: tokenNonce)
    }
}

/// Runners, found by the digest of their `glrt-` token.
public struct RunnerRepository: Sendable {
    let database: Database

    public func create(description: String, tokenDigest: String, tokenNonce: String, tags: [String], runUntagged: Bool, locked: Bool, embedded: Bool, version: String) async throws -> Runner {
        try await database.read { db in
            guard
                let record = try await db.insert(into: "runners")
                    .columns("description", "token_digest", "token_nonce", "tags", "run_untagged", "locked", "active", "embedded", "version", "contacted_at", "created_at")
                    .values(
                        SQLBind(description), SQLBind(tokenDigest), SQLBind(tokenNonce), SQLBind(tags.joined(separator: ",")), SQLBind(runUntagged), SQLBind(locked), SQLBind(true),
                        SQLBind(embedded), SQLBind(version), SQLBind(Int64?.none), SQLBind(Date().milliseconds)
                    )
                    .returning("*").first()?.record(RunnerRecord.self)
            else { throw StoreError.corrupt("runner insert") }
            return record.runner
        }
    }

    public func find(tokenDigest: String) async throws -> Runner? {
        try await database.read { db in
            try await db.select().column("*").from("runners").where("token_digest", .equal, tokenDigest).record(RunnerRecord.self)?.runner
        }
    }

    public func find(id: Int64) async throws -> Runner? {
        try await database.read { db in try await db.select().column("*").from("runners").where("id", .equal, id).record(RunnerRecord.self)?.runner }
    }

    public func list() async throws -> [Runner] {
        try await database.read { db in try await db.select().column("*").from("runners").orderBy("id").records(RunnerRecord.self).map(\.runner) }
    }

    public func touch(id: Int64) async throws {
        try await database.read { db in try await db.update("runners").set("contacted_at", to: Date().milliseconds).where("id", .equal, id).run() }
    }

    /// Replaces the runner's token (its digest and nonce): the old token stops working at once.
    public func replaceToken(id: Int64, tokenDigest: String, tokenNonce: String) async throws {
        try await database.read { db in
            try await db.update("runners").set("token_digest", to: tokenDigest).set("token_nonce", to: tokenNonce).where("id", .equal, id).run()
        }
    }

    /// Replaces the runner's tags (the embedded runner takes `--runner-tags` at every start).
    public func setTags(id: Int64, tags: [String]) async throws {
        try await database.read { db in try await db.update("runners").set("tags", to: tags.joined(separator: ",")).where("id", .equal, id).run() }
    }

    /// Changes what is given in `changes` and answers the runner as it is now.
    public func update(id: Int64, _ changes: RunnerChanges) async throws -> Runner {
        try await database.read { db in
            var update = db.update("runners").where("id", .equal, id)
            if let description = changes.description { update = update.set("description", to: description) }
            if let tags = changes.tags { update = update.set("tags", to: tags.joined(separator: ",")) }
            if let runUntagged = changes.runUntagged { update = update.set("run_untagged", to: runUntagged) }
            if let locked = changes.locked { update = update.set("locked", to: locked) }
            if let active = changes.active { update = update.set("active", to: active) }
            guard let record = try await update.returning("*").first()?.record(RunnerRecord.self) else { throw StoreError.notFound }
            return record.runner
        }
    }

    public func delete(id: Int64) async throws {
        try await database.read { db in try await db.delete(from: "runners").where("id", .equal, id).run() }
    }
}

/// What `RunnerRepository.update` changes; nil leaves a field as it is.
public struct RunnerChanges: Sendable {
    public var description: String?
    public var tags: [String]?
    public var runUntagged: Bool?
    public var locked: Bool?
    public var active: Bool?

    public init(description: String? = nil, tags: [String]? = nil, runUntagged: Bool? = nil, locked: Bool? = nil, active: Bool? = nil) {
        self.description = description
        self.tags = tags
        self.runUntagged = runUntagged
        self.locked = locked
        self.active = active
    }
}
