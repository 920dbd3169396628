import Foundation
import LatchkeyCore
import SQLKit

/// A pipeline trigger token as stored: its digest and a short hint, never the token.
public struct PipelineTrigger: Sendable, Equatable {
    public var id: Int64
    public var projectID: Int64
    /// The user whose pipelines the trigger creates; nil once that user is gone (the trigger then creates nothing).
    public var ownerID: Int64?
    public var description: String
    /// The token's first characters, which GitLab shows to users other than the owner.
    public var tokenHint: String
    public var createdAt: Date
    public var updatedAt: Date
    public var lastUsedAt: Date?
}

struct PipelineTriggerRecord: Codable, Sendable {
    var id: Int64
    var projectId: Int64
    var ownerId: Int64?
    var description: String
    var tokenDigest: String
    var tokenHint: String
    var createdAt: Int64
    var updatedAt: Int64
    var lastUsedAt: Int64?

    var trigger: PipelineTrigger {
        PipelineTrigger(
            id: id, projectID: projectId, ownerID: ownerId, description: description, tokenHint: tokenHint, createdAt: Date(milliseconds: createdAt),
            updatedAt: Date(milliseconds: updatedAt), lastUsedAt: lastUsedAt.map(Date.init(milliseconds:)))
    }
}

/// Pipeline trigger tokens (`glptt-`), looked up by keyed digest.
public struct PipelineTriggerRepository: Sendable {
    let database: Database

    /// Stores a trigger whose token has the given digest.
    public func create(projectID: Int64, ownerID: Int64, description: String, tokenDigest: String, tokenHint: String) async throws -> PipelineTrigger {
        try await database.read { db in
            let now = Date().milliseconds
            guard
                let record = try await db.insert(into: "pipeline_triggers")
                    .columns("project_id", "owner_id", "description", "token_digest", "token_hint", "created_at", "updated_at", "last_used_at")
                    .values(
                        SQLBind(projectID), SQLBind(ownerID), SQLBind(description), SQLBind(tokenDigest), SQLBind(tokenHint), SQLBind(now), SQLBind(now),
                        SQLBind(Int64?.none)
                    )
                    .returning("*").first()?.record(PipelineTriggerRecord.self)
            else { throw StoreError.corrupt("trigger insert") }
            return record.trigger
        }
    }

    public func list(projectID: Int64, page: PageRequest) async throws -> Page<PipelineTrigger> {
        try await database.read { db in
            try await db.select().column("*").from("pipeline_triggers").where("project_id", .equal, projectID).orderBy("id")
                .page(page, as: PipelineTriggerRecord.self, countOn: db).map(\.trigger)
        }
    }

    public func find(id: Int64, projectID: Int64) async throws -> PipelineTrigger? {
        try await database.read { db in
            try await db.select().column("*").from("pipeline_triggers").where("id", .equal, id).where("project_id", .equal, projectID)
                .record(PipelineTriggerRecord.self)?.trigger
        }
    }

    /// The trigger whose token has this digest.
    public func find(tokenDigest: String) async throws -> PipelineTrigger? {
        try await database.read { db in
            try await db.select().column("*").from("pipeline_triggers").where("token_digest", .equal, tokenDigest).record(PipelineTriggerRecord.self)?.trigger
        }
    }

    public func touch(id: Int64, at date: Date = Date()) async throws {
        try await database.read { db in try await db.update("pipeline_triggers").set("last_used_at", to: date.milliseconds).where("id", .equal, id).run() }
    }

    public func delete(id: Int64) async throws {
        try await database.read { db in try await db.delete(from: "pipeline_triggers").where("id", .equal, id).run() }
    }
}
