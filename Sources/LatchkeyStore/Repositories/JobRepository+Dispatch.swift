import Foundation
import LatchkeyCore
import SQLKit

/// Dispatch: a runner's claim chosen in SQL, and what a claim changes in its pipeline.
extension JobRepository {
    /// Migration 10: job tags as rows, the `uses_needs` flag, and an index for progression's per-pipeline status checks.
    static func addDispatchColumns(_ db: any SQLDatabase, _ kind: DatabaseKind) async throws {
        // A claim chooses among every pending job in SQL: each job's tags as rows make "tags ⊆ runner tags" a NOT EXISTS.
        try await db.create(table: "job_tags")
            .column("job_id", type: .bigint, .notNull, .references("jobs", "id", onDelete: .cascade))
            .column("tag", type: .text, .notNull)
            .primaryKey("job_id", "tag")
            .run()
        // Whether a job waits on `needs:` (a DAG): only then can the end of one job start another before its stage is complete.
        try await db.alter(table: "jobs").column("uses_needs", type: Schema.boolean, .notNull, .default(false)).run()
        try await db.create(index: "jobs_by_pipeline_status").on("jobs").column("pipeline_id").column("status").run()
        // A trace PATCH advances its offset in one statement and records the runner's sign of life there, not on `jobs`.
        try await db.alter(table: "job_traces").column("updated_at", type: .bigint).run()
        // Jobs that may still run get their tags and needs from their stored definitions.
        let open = [JobStatus.created, .pending, .manual].map(\.rawValue)
        let rows = try await db.select().column("id").column("definition").from("jobs").where("status", .in, open).all()
        for row in rows {
            let id = try row.decode(column: "id", as: Int64.self)
            guard let definition = JSONCoding.decode(JobDefinition.self, from: try row.decode(column: "definition", as: String.self)) else { continue }
            try await insertDispatchFacts(definition, jobID: id, db: db)
        }
    }

    /// Stores what a claim and progression read of a new job's definition: its tags, and whether it uses `needs:`.
    static func insertDispatchFacts(_ definition: JobDefinition, jobID: Int64, db: any SQLDatabase) async throws {
        let tags = Array(Set(definition.tags)).sorted()
        if !tags.isEmpty {
            let insert = db.insert(into: "job_tags").columns("job_id", "tag")
            for tag in tags { insert.values(SQLBind(jobID), SQLBind(tag)) }
            try await insert.run()
        }
        if definition.needs != nil { try await db.update("jobs").set("uses_needs", to: true).where("id", .equal, jobID).run() }
        if definition.isBridge { try await db.update("jobs").set("is_bridge", to: true).where("id", .equal, jobID).run() }
    }

    /// Claims the oldest pending job `runner` may run, in one statement, and marks it running with the new token's digest and nonce.
    ///
    /// The choice is made in SQL over every pending job (every job tag must be a runner tag; untagged jobs need `run_untagged`),
    /// so jobs no runner can take never hide later ones. PostgreSQL skips rows other claimants hold (`FOR UPDATE SKIP LOCKED`);
    /// SQLite runs the one `UPDATE … RETURNING` under its write lock. Either way no job reaches two runners.
    /// The claim also opens the job's trace and marks its pipeline running. Returns nil when nothing fits.
    public func claimNext(runner: Runner, tokenDigest: String, tokenNonce: String) async throws -> Job? {
        guard runner.active, runner.runUntagged || !runner.tags.isEmpty else { return nil }
        let kind = database.kind
        return try await database.transaction { db in
            let now = Date().milliseconds
            let tags = Array(Set(runner.tags)).sorted()
            var eligible: SQLQueryString =
                tags.isEmpty
                ? "NOT EXISTS (SELECT 1 FROM job_tags t WHERE t.job_id = c.id)"
                : "NOT EXISTS (SELECT 1 FROM job_tags t WHERE t.job_id = c.id AND t.tag NOT IN (\(binds: tags)))"
            if !runner.runUntagged { eligible = eligible + " AND EXISTS (SELECT 1 FROM job_tags t WHERE t.job_id = c.id)" }
            // The runner as this request loaded it must still be the runner in the database: a runner paused, deleted or
            // given other tags while it long-polls claims nothing more with what it was.
            eligible = eligible
                + " AND EXISTS (SELECT 1 FROM runners r WHERE r.id = \(bind: runner.id) AND r.active = \(bind: true)"
                + " AND r.tags = \(bind: runner.tags.joined(separator: ",")) AND r.run_untagged = \(bind: runner.runUntagged))"
            let lock: SQLQueryString = kind == .postgres ? " FOR UPDATE OF c SKIP LOCKED" : ""
            let running = JobStatus.running.rawValue, pending = JobStatus.pending.rawValue
            let query: SQLQueryString =
                "UPDATE jobs SET status = \(bind: running), runner_id = \(bind: runner.id), token_digest = \(bind: tokenDigest), "
                + "token_nonce = \(bind: tokenNonce), started_at = \(bind: now), updated_at = \(bind: now) "
                + "WHERE status = \(bind: pending) AND id = (SELECT c.id FROM jobs c WHERE c.status = \(bind: pending) AND c.is_bridge = \(bind: false) AND "
                + eligible
                + " ORDER BY c.id LIMIT 1" + lock + ") RETURNING *"
            guard let record = try await db.raw(query).first()?.record(JobRecord.self) else { return nil }
            try await db.delete(from: "job_traces").where("job_id", .equal, record.id).run()
            try await db.insert(into: "job_traces").columns("job_id", "received", "crc", "held", "exit_code")
                .values(SQLBind(record.id), SQLBind(Int64(0)), SQLBind(Int64(0)), SQLBind(Data()), SQLBind(Int64?.none)).run()
            try await PipelineRepository.markRunning(pipelineID: record.pipelineId, now: now, db: db)
            return record.job
        }
    }

    /// Puts back in the queue the job claimed with `tokenNonce` when its runner left before the job could reach it: the token
    /// (never sent) dies with the nonce, the empty trace row goes, and the pipeline's status is worked out again.
    /// False when the job is no longer that claim (it ended, or was canceled meanwhile).
    public func giveBack(jobID: Int64, tokenNonce: String) async throws -> Bool {
        let pipelineID: Int64? = try await database.transaction { db in
            let row = try await db.update("jobs")
                .set("status", to: JobStatus.pending.rawValue).set("runner_id", to: SQLLiteral.null).set("token_digest", to: SQLLiteral.null)
                .set("token_nonce", to: SQLLiteral.null).set("token_sealed", to: SQLLiteral.null).set("started_at", to: SQLLiteral.null)
                .set("updated_at", to: Date().milliseconds)
                .where("id", .equal, jobID).where("status", .equal, JobStatus.running.rawValue).where("token_nonce", .equal, tokenNonce)
                .returning("pipeline_id").first()
            guard let row else { return nil }
            try await db.delete(from: "job_traces").where("job_id", .equal, jobID).run()
            return try row.decode(column: "pipeline_id", as: Int64.self)
        }
        guard let pipelineID else { return false }
        try await PipelineRepository(database: database).advance(pipelineID: pipelineID)
        return true
    }
}

extension PipelineRepository {
    /// A job has started: its pipeline is running (GitLab's composite status is `running` whenever a job runs), nothing else changes.
    static func markRunning(pipelineID: Int64, now: Int64, db: any SQLDatabase) async throws {
        let running = PipelineStatus.running.rawValue
        try await db.raw(
            """
            UPDATE pipelines SET status = \(bind: running), started_at = COALESCE(started_at, \(bind: now)), finished_at = NULL, updated_at = \(bind: now)
            WHERE id = \(bind: pipelineID) AND status <> \(bind: running) AND yaml_errors IS NULL
            """
        ).run()
    }
}

extension PipelineRepository {
    /// Progression after `job` ended: nothing but the job changes while its stage still has other jobs queued or running, the
    /// pipeline still has a running job, and no job waits on `needs:` or on this stage alone (a retry's new attempt); else the full
    /// `advance`. Checked after the job's transaction has committed, so of two jobs ending at once the later check sees both ended.
    public func advance(afterEndOf job: Job) async throws {
        let active = [JobStatus.pending, .running, .canceling].map(\.rawValue)
        let running = JobStatus.running.rawValue, created = JobStatus.created.rawValue
        let unchanged = try await database.read { db in
            let row = try await db.raw(
                """
                SELECT
                  CASE WHEN EXISTS (SELECT 1 FROM jobs WHERE pipeline_id = \(bind: job.pipelineID) AND status IN (\(binds: active))
                    AND stage_index = \(bind: job.stageIndex) AND retried = \(bind: false) AND id <> \(bind: job.id)) THEN 1 ELSE 0 END AS stage_open,
                  CASE WHEN EXISTS (SELECT 1 FROM jobs WHERE pipeline_id = \(bind: job.pipelineID) AND status = \(bind: running)
                    AND retried = \(bind: false) AND id <> \(bind: job.id)) THEN 1 ELSE 0 END AS still_running,
                  CASE WHEN EXISTS (SELECT 1 FROM jobs WHERE pipeline_id = \(bind: job.pipelineID) AND status = \(bind: created)
                    AND (uses_needs = \(bind: true) OR stage_index <= \(bind: job.stageIndex))) THEN 1 ELSE 0 END AS waiting,
                  (SELECT status FROM pipelines WHERE id = \(bind: job.pipelineID)) AS pipeline_status
                """
            ).first()
            guard let row else { return false }
            return try row.decode(column: "stage_open", as: Int.self) == 1 && row.decode(column: "still_running", as: Int.self) == 1
                && row.decode(column: "waiting", as: Int.self) == 0 && row.decode(column: "pipeline_status", as: String?.self) == running
        }
        if !unchanged { try await advance(pipelineID: job.pipelineID) }
    }
}

/// A job whose unexpired artifacts archive a later job receives (`dependencies`).
public struct JobDependencyArchive: Sendable, Equatable {
    public var jobID: Int64
    public var name: String
    public var filename: String
    public var size: Int64
}

extension JobRepository {
    /// The archives `job` receives, in one query: of its `dependencies` by name, or of every earlier stage's latest attempts by default.
    public func dependencyArchives(of job: Job, now: Date = Date()) async throws -> [JobDependencyArchive] {
        let names = job.definition.dependencies
        if let names, names.isEmpty { return [] }
        return try await database.read { db in
            let chosen: SQLQueryString =
                if let names { "j.name IN (\(binds: names)) AND j.id <> \(bind: job.id)" } else { "j.stage_index < \(bind: job.stageIndex)" }
            let rows = try await db.raw(
                "SELECT j.id AS job_id, j.name AS name, a.filename AS filename, a.size AS size FROM jobs j JOIN job_artifacts a ON a.job_id = j.id "
                    + "WHERE j.pipeline_id = \(bind: job.pipelineID) AND j.retried = \(bind: false) AND a.file_type = \(bind: "archive") "
                    + "AND (a.expire_at IS NULL OR a.expire_at > \(bind: now.milliseconds)) AND " + chosen + " ORDER BY j.id, a.id"
            ).all()
            var seen: Set<Int64> = []
            return try rows.compactMap { row in
                let id = try row.decode(column: "job_id", as: Int64.self)
                guard seen.insert(id).inserted else { return nil }
                return JobDependencyArchive(
                    jobID: id, name: try row.decode(column: "name", as: String.self), filename: try row.decode(column: "filename", as: String.self),
                    size: try row.decode(column: "size", as: Int64.self))
            }
        }
    }
}
