import Foundation
import LatchkeyCore
import SQLKit

/// What a user does to a whole pipeline: cancel it, or retry what failed.
extension JobRepository {
    /// Cancels every job of the pipeline that may still run, as GitLab's `CancelPipelineService`: waiting ones at once, running
    /// ones through `canceling` (the runner stops them); manual jobs stay playable. Returns how many jobs it changed.
    @discardableResult
    public func cancel(pipelineID: Int64) async throws -> Int {
        let changed: Int = try await database.transaction { db in
            let now = Date().milliseconds
            let waiting = [JobStatus.created, .pending, .scheduled].map(\.rawValue)
            let stopped = try await db.update("jobs").set("status", to: JobStatus.canceled.rawValue).set("finished_at", to: now).set("updated_at", to: now)
                .where("pipeline_id", .equal, pipelineID).where("status", .in, waiting).returning("id").all()
            let stopping = try await db.update("jobs").set("status", to: JobStatus.canceling.rawValue).set("updated_at", to: now)
                .where("pipeline_id", .equal, pipelineID).where("status", .equal, JobStatus.running.rawValue).where("is_bridge", .equal, false)
                .returning("id").all()
            // A running bridge has no runner to tell: it is canceled at once.
            let bridges = try await db.update("jobs").set("status", to: JobStatus.canceled.rawValue).set("finished_at", to: now).set("updated_at", to: now)
                .where("pipeline_id", .equal, pipelineID).where("status", .equal, JobStatus.running.rawValue).where("is_bridge", .equal, true)
                .returning("id").all()
            return stopped.count + stopping.count + bridges.count
        }
        let pipelines = PipelineRepository(database: database)
        if changed > 0 { try await pipelines.advance(pipelineID: pipelineID) }
        // Canceling a parent cancels its child pipelines, as GitLab's `cancel_running` cascades to them.
        var children = 0
        for child in try await pipelines.childPipelines(of: pipelineID) { children += try await cancel(pipelineID: child) }
        return changed + children
    }

    /// Retries every failed or canceled job of the pipeline as `userID` (GitLab's `retry_failed`); the jobs their failure
    /// skipped go back to created. Returns the new jobs.
    public func retryFailed(pipelineID: Int64, userID: Int64) async throws -> [Job] {
        let failed = try await database.read { db in
            try await Self.current(pipelineID: pipelineID, db: db).filter { [.failed, .canceled].contains($0.status) }
        }
        var retried: [Job] = []
        for job in failed {
            if let new = try await retry(jobID: job.id, userID: userID) { retried.append(new) }
        }
        return retried
    }
}
