import Foundation
import LatchkeyCore
import SQLKit

/// Delayed jobs (`when: delayed`): `scheduled` until their start time, then pending like any other job.
extension JobRepository {
    /// Migration 18: when each scheduled job starts, indexed by status first so the starter's check reads only scheduled jobs
    /// (the column keeps its value once a job has started).
    static func addScheduledAt(_ db: any SQLDatabase, _ kind: DatabaseKind) async throws {
        try await db.alter(table: "jobs").column("scheduled_at", type: .bigint).run()
        try await db.create(index: "jobs_by_status_scheduled_at").on("jobs").column("status").column("scheduled_at").run()
    }

    /// Queues every scheduled job whose start time has come; returns the pipelines whose jobs it queued.
    ///
    /// The read comes first so an idle instance takes no write lock; the update re-checks the status, so a job
    /// played, canceled or started by another instance meanwhile is left alone.
    public func enqueueDue(now: Date) async throws -> Set<Int64> {
        let cutoff = now.milliseconds
        let due = try await database.read { db in
            try await db.select().column("id").from("jobs").where("status", .equal, JobStatus.scheduled.rawValue)
                .where("scheduled_at", .lessThanOrEqual, cutoff).limit(500).all().map { try $0.decode(column: "id", as: Int64.self) }
        }
        guard !due.isEmpty else { return [] }
        let rows = try await database.write { db in
            try await db.update("jobs").set("status", to: JobStatus.pending.rawValue).set("queued_at", to: cutoff).set("updated_at", to: cutoff)
                .where("id", .in, due).where("status", .equal, JobStatus.scheduled.rawValue)
                .returning("pipeline_id").all()
        }
        let pipelines = Set(try rows.map { try $0.decode(column: "pipeline_id", as: Int64.self) })
        for pipelineID in pipelines { try await PipelineRepository(database: database).advance(pipelineID: pipelineID) }
        return pipelines
    }
}
