import Foundation
import LatchkeyCore
import SQLKit

struct PipelineScheduleRecord: Codable, Sendable {
    var id: Int64
    var projectId: Int64
    var description: String
    var ref: String
    var cron: String
    var cronTimezone: String
    var active: Bool
    var ownerId: Int64
    var nextRunAt: Int64?
    var variables: String
    var createdAt: Int64
    var updatedAt: Int64

    var schedule: PipelineSchedule {
        PipelineSchedule(
            id: id, projectID: projectId, description: description, ref: ref, cron: cron, cronTimezone: cronTimezone, active: active, ownerID: ownerId,
            nextRunAt: nextRunAt.map(Date.init(milliseconds:)), variables: JSONCoding.decode([CIVariable].self, from: variables) ?? [],
            createdAt: Date(milliseconds: createdAt), updatedAt: Date(milliseconds: updatedAt))
    }
}

/// Pipeline schedules, and claiming the due ones.
public struct PipelineScheduleRepository: Sendable {
    let database: Database

    public func create(
        projectID: Int64, description: String, ref: String, cron: String, cronTimezone: String, active: Bool, ownerID: Int64, nextRunAt: Date?
    ) async throws -> PipelineSchedule {
        try await database.read { db in
            let now = Date().milliseconds
            guard
                let record = try await db.insert(into: "pipeline_schedules")
                    .columns("project_id", "description", "ref", "cron", "cron_timezone", "active", "owner_id", "next_run_at", "variables", "created_at", "updated_at")
                    .values(
                        SQLBind(projectID), SQLBind(description), SQLBind(ref), SQLBind(cron), SQLBind(cronTimezone), SQLBind(active), SQLBind(ownerID),
                        SQLBind(nextRunAt?.milliseconds), SQLBind("[]"), SQLBind(now), SQLBind(now)
                    )
                    .returning("*").first()?.record(PipelineScheduleRecord.self)
            else { throw StoreError.corrupt("schedule insert") }
            return record.schedule
        }
    }

    public func find(id: Int64, projectID: Int64) async throws -> PipelineSchedule? {
        try await database.read { db in
            try await db.select().column("*").from("pipeline_schedules").where("id", .equal, id).where("project_id", .equal, projectID)
                .record(PipelineScheduleRecord.self)?.schedule
        }
    }

    public func list(projectID: Int64, active: Bool?, page: PageRequest) async throws -> Page<PipelineSchedule> {
        try await database.read { db in
            let query = db.select().column("*").from("pipeline_schedules").where("project_id", .equal, projectID).orderBy("id")
            if let active { query.where("active", .equal, active) }
            return try await query.page(page, as: PipelineScheduleRecord.self, countOn: db).map(\.schedule)
        }
    }

    /// Stores a schedule's changed fields as given.
    public func save(_ schedule: PipelineSchedule) async throws -> PipelineSchedule {
        try await database.read { db in
            guard
                let record = try await db.update("pipeline_schedules")
                    .set("description", to: schedule.description).set("ref", to: schedule.ref).set("cron", to: schedule.cron)
                    .set("cron_timezone", to: schedule.cronTimezone).set("active", to: schedule.active).set("owner_id", to: schedule.ownerID)
                    .set("next_run_at", to: SQLBind(schedule.nextRunAt?.milliseconds)).set("variables", to: JSONCoding.encode(schedule.variables))
                    .set("updated_at", to: Date().milliseconds)
                    .where("id", .equal, schedule.id).returning("*").first()?.record(PipelineScheduleRecord.self)
            else { throw StoreError.notFound }
            return record.schedule
        }
    }

    public func delete(id: Int64) async throws {
        try await database.read { db in try await db.delete(from: "pipeline_schedules").where("id", .equal, id).run() }
    }

    /// Active schedules whose next run is at or before `now`.
    public func due(now: Date) async throws -> [PipelineSchedule] {
        try await database.read { db in
            try await db.select().column("*").from("pipeline_schedules").where("active", .equal, true)
                .where("next_run_at", .lessThanOrEqual, now.milliseconds).orderBy("next_run_at").limit(100)
                .records(PipelineScheduleRecord.self).map(\.schedule)
        }
    }

    /// Moves a due schedule's next run forward, only if no other instance did it first. Returns whether this caller claimed the run.
    public func claimRun(id: Int64, expected: Date, next: Date?) async throws -> Bool {
        try await database.read { db in
            try await db.update("pipeline_schedules").set("next_run_at", to: SQLBind(next?.milliseconds))
                .where("id", .equal, id).where("next_run_at", .equal, expected.milliseconds)
                .returning("id").first() != nil
        }
    }
}
