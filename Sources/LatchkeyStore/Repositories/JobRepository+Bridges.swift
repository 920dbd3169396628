import Foundation
import LatchkeyCore
import SQLKit

/// Bridges (`trigger:` jobs): the server, not a runner, starts their downstream pipelines.
extension JobRepository {
    /// Migration 24: which jobs are bridges, so no runner's claim ever picks one.
    static func addBridgeColumn(_ db: any SQLDatabase, _ kind: DatabaseKind) async throws {
        try await db.alter(table: "jobs").column("is_bridge", type: Schema.boolean, .notNull, .default(false)).run()
        // Bridge → downstream lookups (the tree walk, the bridges list, the reaper) and cancel's cascade go by the upstream job.
        try await db.create(index: "pipelines_by_upstream_job").on("pipelines").column("upstream_job_id").run()
    }

    /// Takes the oldest pending bridge to start its downstream pipeline: pending → running in one status-checked statement, so of
    /// several instances exactly one starts it (PostgreSQL skips rows another instance holds). Nil when none waits.
    public func claimPendingBridge() async throws -> Job? {
        let kind = database.kind
        return try await database.transaction { db in
            let now = Date().milliseconds
            let running = JobStatus.running.rawValue, pending = JobStatus.pending.rawValue
            let lock: SQLQueryString = kind == .postgres ? " FOR UPDATE OF c SKIP LOCKED" : ""
            let query: SQLQueryString =
                "UPDATE jobs SET status = \(bind: running), started_at = \(bind: now), updated_at = \(bind: now) "
                + "WHERE status = \(bind: pending) AND id = (SELECT c.id FROM jobs c WHERE c.status = \(bind: pending) AND c.is_bridge = \(bind: true)"
                + " ORDER BY c.id LIMIT 1" + lock + ") RETURNING *"
            guard let record = try await db.raw(query).first()?.record(JobRecord.self) else { return nil }
            try await PipelineRepository.markRunning(pipelineID: record.pipelineId, now: now, db: db)
            return record.job
        }
    }

    /// Ends a running bridge with `status` (and GitLab's failure reason when it failed), then lets its pipeline progress.
    /// Nil when the bridge was no longer running (canceled meanwhile, or already ended).
    @discardableResult
    public func finishBridge(id: Int64, status: JobStatus, failureReason: String? = nil) async throws -> Job? {
        let now = Date().milliseconds
        let ended: Job? = try await database.transaction { db in
            let update = db.update("jobs").set("status", to: status.rawValue).set("finished_at", to: now).set("updated_at", to: now)
                .where("id", .equal, id).where("is_bridge", .equal, true).where("status", .equal, JobStatus.running.rawValue)
            if let failureReason { update.set("failure_reason", to: failureReason) }
            return try await update.returning("*").first()?.record(JobRecord.self).job
        }
        if let ended { try await PipelineRepository(database: database).advance(afterEndOf: ended) }
        return ended
    }

    /// The downstream pipeline each of these bridges started (its latest, should a bridge have several), by bridge id.
    public func downstreamPipelines(ofBridges ids: [Int64]) async throws -> [Int64: Pipeline] {
        guard !ids.isEmpty else { return [:] }
        return try await database.read { db in
            var found: [Int64: Pipeline] = [:]
            for chunk in stride(from: 0, to: ids.count, by: 500).map({ Array(ids[$0..<min($0 + 500, ids.count)]) }) {
                let rows = try await db.select().column("*").from("pipelines").where("upstream_job_id", .in, chunk).orderBy("id").records(PipelineRecord.self)
                for row in rows { if let bridge = row.upstreamJobId { found[bridge] = row.pipeline } }
            }
            return found
        }
    }
}

extension PipelineRepository {
    /// The pipeline and those upstream of it (its bridge's pipeline, and so on), nearest first; at most `limit`.
    public func selfAndUpstreams(of pipeline: Pipeline, limit: Int = PipelineHierarchy.maximumSize) async throws -> [Pipeline] {
        try await database.read { db in
            var chain = [pipeline]
            while chain.count < limit, let jobID = chain.last?.upstreamJobID {
                guard
                    let upstream = try await db.raw("SELECT p.* FROM pipelines p JOIN jobs j ON j.pipeline_id = p.id WHERE j.id = \(bind: jobID)")
                        .first()?.record(PipelineRecord.self).pipeline,
                    !chain.contains(where: { $0.id == upstream.id })
                else { break }
                chain.append(upstream)
            }
            return chain
        }
    }

    /// How many pipelines the tree holding `root` has (root included), counting no further than `limit`.
    public func hierarchySize(root: Pipeline, limit: Int = PipelineHierarchy.maximumSize) async throws -> Int {
        try await database.read { db in
            var count = 1
            var level = [root.id]
            while !level.isEmpty, count <= limit {
                var next: [Int64] = []
                for chunk in stride(from: 0, to: level.count, by: 500).map({ Array(level[$0..<min($0 + 500, level.count)]) }) {
                    let rows = try await db.raw(
                        "SELECT p.id FROM pipelines p JOIN jobs j ON p.upstream_job_id = j.id WHERE j.pipeline_id IN (\(binds: chunk))"
                    ).all()
                    next += try rows.map { try $0.decode(column: "id", as: Int64.self) }
                }
                count += next.count
                level = next
            }
            return count
        }
    }

    /// `mirrorToBridge` with the pipeline as it is now: for the starter, whose downstream pipeline may have ended already.
    public func mirrorToBridge(_ pipelineID: Int64) async throws {
        guard let pipeline = try await find(id: pipelineID) else { return }
        try await mirrorToBridge(pipeline, status: pipeline.status)
    }

    /// A downstream pipeline ended: the `strategy: depend` bridge that started it ends the same way, and its pipeline moves on.
    func mirrorToBridge(_ pipeline: Pipeline, status: PipelineStatus) async throws {
        guard let bridgeID = pipeline.upstreamJobID, let bridgeStatus = PipelineHierarchy.bridgeStatus(mirroring: status) else { return }
        let jobs = JobRepository(database: database)
        guard let bridge = try await jobs.find(id: bridgeID), bridge.definition.trigger?.dependsOnDownstream == true, bridge.status == .running else { return }
        try await jobs.finishBridge(id: bridgeID, status: bridgeStatus)
    }

    /// Child pipelines started by bridges of this pipeline, finished or not: canceling a parent cancels every descendant in its
    /// project (GitLab's `all_child_pipelines`), and a finished child may still have running children of its own.
    func childPipelines(of pipelineID: Int64) async throws -> [Int64] {
        try await database.read { db in
            try await db.raw(
                """
                SELECT p.id FROM pipelines p JOIN jobs j ON p.upstream_job_id = j.id
                WHERE j.pipeline_id = \(bind: pipelineID) AND p.source = \(bind: PipelineSource.parentPipeline.rawValue)
                """
            ).all().map { try $0.decode(column: "id", as: Int64.self) }
        }
    }
}
