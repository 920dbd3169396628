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

    /// Bridges waiting by project: the starter takes them project by project (round robin), so one project's flood of bridges
    /// never holds back another's.
    static func addPendingBridgeIndex(_ db: any SQLDatabase, _ kind: DatabaseKind) async throws {
        try await db.create(index: "jobs_pending_bridges").on("jobs").column("is_bridge").column("status").column("project_id").column("id").run()
    }

    /// Takes a pending bridge to start its downstream pipeline: the oldest of the first project after `project` that has one
    /// (wrapping round), so that projects take turns. Pending → running in one status-checked statement, so of several
    /// instances exactly one starts it (PostgreSQL skips rows another instance holds). Nil when none waits.
    public func claimPendingBridge(after project: Int64? = nil) async throws -> Job? {
        if let project, let claimed = try await claimPendingBridge(where: " AND c.project_id > \(bind: project)") { return claimed }
        return try await claimPendingBridge(where: "")
    }

    private func claimPendingBridge(where condition: SQLQueryString) async throws -> Job? {
        let kind = database.kind
        return try await database.transaction { db in
            let now = Date().milliseconds
            let running = JobStatus.running.rawValue, pending = JobStatus.pending.rawValue
            let lock: SQLQueryString = kind == .postgres ? " FOR UPDATE OF c SKIP LOCKED" : ""
            let query: SQLQueryString =
                "UPDATE jobs SET status = \(bind: running), started_at = \(bind: now), updated_at = \(bind: now) "
                + "WHERE status = \(bind: pending) AND id = (SELECT c.id FROM jobs c WHERE c.is_bridge = \(bind: true) AND c.status = \(bind: pending)"
                + condition + " ORDER BY c.project_id, c.id LIMIT 1" + lock + ") RETURNING *"
            guard let record = try await db.raw(query).first()?.record(JobRecord.self) else { return nil }
            try await PipelineRepository.markRunning(pipelineID: record.pipelineId, now: now, db: db)
            return record.job
        }
    }

    /// The bridges still pending in these pipelines, for refusing together what a tree's limits refuse for all of them.
    public func pendingBridges(pipelineIDs: [Int64]) async throws -> [Job] {
        guard !pipelineIDs.isEmpty else { return [] }
        return try await database.read { db in
            var found: [Job] = []
            for chunk in stride(from: 0, to: pipelineIDs.count, by: 500).map({ Array(pipelineIDs[$0..<min($0 + 500, pipelineIDs.count)]) }) {
                found += try await db.select().column("*").from("jobs").where("pipeline_id", .in, chunk).where("is_bridge", .equal, true)
                    .where("status", .equal, JobStatus.pending.rawValue).orderBy("id").records(JobRecord.self).map(\.job)
            }
            return found
        }
    }

    /// Fails pending bridges at once, each with its failure reason, then lets each of their pipelines progress once: a tree at
    /// its limits ends every bridge it has queued in one pass rather than one claim each. Returns how many were failed (a
    /// bridge another instance took meanwhile is left to it).
    @discardableResult
    public func failPendingBridges(_ reasons: [Int64: String]) async throws -> Int {
        guard !reasons.isEmpty else { return 0 }
        let now = Date().milliseconds
        let (pipelines, failed): (Set<Int64>, Int) = try await database.transaction { db in
            var touched: Set<Int64> = []
            var failed = 0
            for (reason, entries) in Dictionary(grouping: reasons, by: \.value) {
                let ids = entries.map(\.key)
                for chunk in stride(from: 0, to: ids.count, by: 500).map({ Array(ids[$0..<min($0 + 500, ids.count)]) }) {
                    let rows = try await db.update("jobs").set("status", to: JobStatus.failed.rawValue).set("failure_reason", to: reason)
                        .set("started_at", to: now).set("finished_at", to: now).set("updated_at", to: now)
                        .where("id", .in, chunk).where("is_bridge", .equal, true).where("status", .equal, JobStatus.pending.rawValue)
                        .returning("pipeline_id").all()
                    for row in rows { touched.insert(try row.decode(column: "pipeline_id", as: Int64.self)) }
                    failed += rows.count
                }
            }
            return (touched, failed)
        }
        let repository = PipelineRepository(database: database)
        for pipeline in pipelines.sorted() { try await repository.advance(pipelineID: pipeline) }
        return failed
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

/// One pipeline of a tree, as its limits see it.
public struct PipelineTreeNode: Sendable, Equatable {
    public var id: Int64
    public var projectID: Int64
    public var ref: String
    public var source: PipelineSource
    /// The pipeline whose bridge started this one; nil for the root.
    public var parentID: Int64?
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

    /// The pipelines of the tree below `root`, root first, level by level, with what the tree's limits are decided on; the walk
    /// stops once more than `limit` are found.
    public func tree(root: Pipeline, limit: Int = PipelineHierarchy.maximumSize) async throws -> [PipelineTreeNode] {
        try await database.read { db in
            var nodes = [PipelineTreeNode(id: root.id, projectID: root.projectID, ref: root.ref, source: root.source, parentID: nil)]
            var level = [root.id]
            while !level.isEmpty, nodes.count <= limit {
                var next: [Int64] = []
                for chunk in stride(from: 0, to: level.count, by: 500).map({ Array(level[$0..<min($0 + 500, level.count)]) }) {
                    let rows = try await db.raw(
                        """
                        SELECT p.id, p.project_id, p.ref, p.source, j.pipeline_id AS parent_id
                        FROM pipelines p JOIN jobs j ON p.upstream_job_id = j.id WHERE j.pipeline_id IN (\(binds: chunk))
                        """
                    ).all()
                    for row in rows {
                        let node = PipelineTreeNode(
                            id: try row.decode(column: "id", as: Int64.self), projectID: try row.decode(column: "project_id", as: Int64.self),
                            ref: try row.decode(column: "ref", as: String.self),
                            source: PipelineSource(rawValue: try row.decode(column: "source", as: String.self)) ?? .push,
                            parentID: try row.decode(column: "parent_id", as: Int64.self))
                        nodes.append(node)
                        next.append(node.id)
                    }
                }
                level = next
            }
            return nodes
        }
    }

    /// How many pipelines the tree holding `root` has (root included), counting no further than `limit`.
    public func hierarchySize(root: Pipeline, limit: Int = PipelineHierarchy.maximumSize) async throws -> Int {
        try await tree(root: root, limit: limit).count
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
