import Foundation
import LatchkeyCore
import SQLKit

struct JobRecord: Codable, Sendable {
    var id: Int64
    var pipelineId: Int64
    var projectId: Int64
    var name: String
    var stage: String
    var stageIndex: Int
    var status: String
    var definition: String
    var userId: Int64?
    var retried: Bool
    var runnerId: Int64?
    var failureReason: String?
    var createdAt: Int64
    var queuedAt: Int64?
    var startedAt: Int64?
    var finishedAt: Int64?
    var updatedAt: Int64
    var scheduledAt: Int64?

    var job: Job {
        var job = Job(
            id: id, pipelineID: pipelineId, projectID: projectId, name: name, stage: stage, stageIndex: stageIndex,
            status: JobStatus(rawValue: status) ?? .failed,
            definition: JSONCoding.decode(JobDefinition.self, from: definition) ?? JobDefinition(name: name, stage: stage, script: []), userID: userId,
            retried: retried, runnerID: runnerId, failureReason: failureReason, createdAt: Date(milliseconds: createdAt),
            queuedAt: queuedAt.map(Date.init(milliseconds:)), startedAt: startedAt.map(Date.init(milliseconds:)),
            finishedAt: finishedAt.map(Date.init(milliseconds:)), updatedAt: Date(milliseconds: updatedAt))
        job.scheduledAt = scheduledAt.map(Date.init(milliseconds:))
        return job
    }
}

/// Which jobs a listing holds.
public struct JobFilter: Sendable {
    public var statuses: [JobStatus]
    public var includeRetried: Bool
    /// Only bridges (true), only builds (false), or both (nil).
    public var bridges: Bool?

    public init(statuses: [JobStatus] = [], includeRetried: Bool = false, bridges: Bool? = nil) {
        self.statuses = statuses
        self.includeRetried = includeRetried
        self.bridges = bridges
    }
}

/// Jobs: their rows, and the transitions users ask for (play, cancel, retry).
public struct JobRepository: Sendable {
    let database: Database

    @discardableResult
    static func insert(_ definition: JobDefinition, pipelineID: Int64, projectID: Int64, stageIndex: Int, userID: Int64?, db: any SQLDatabase) async throws -> Int64 {
        let now = Date().milliseconds
        let row = try await db.insert(into: "jobs")
            .columns(
                "pipeline_id", "project_id", "name", "stage", "stage_index", "status", "definition", "user_id", "retried", "token_digest", "runner_id",
                "failure_reason", "created_at", "queued_at", "started_at", "finished_at", "updated_at"
            )
            .values(
                SQLBind(pipelineID), SQLBind(projectID), SQLBind(definition.name), SQLBind(definition.stage), SQLBind(stageIndex),
                SQLBind(JobStatus.created.rawValue), SQLBind(JSONCoding.encode(definition)), SQLBind(userID), SQLBind(false), SQLBind(String?.none),
                SQLBind(Int64?.none), SQLBind(String?.none), SQLBind(now), SQLBind(Int64?.none), SQLBind(Int64?.none), SQLBind(Int64?.none), SQLBind(now)
            )
            .returning("id").first()
        guard let id = try row?.decode(column: "id", as: Int64.self) else { throw StoreError.corrupt("job insert") }
        try await insertDispatchFacts(definition, jobID: id, db: db)
        return id
    }

    /// Inserts a new pipeline's jobs (with their stage indices) a few hundred rows per statement, and their tags likewise:
    /// a 1,000-job pipeline costs a handful of statements, not 2,000. Job names are unique within a pipeline's definition,
    /// which maps the returned ids back to their jobs (a multi-row `RETURNING` promises no order).
    @discardableResult
    static func insertAll(_ jobs: [(JobDefinition, Int)], pipelineID: Int64, projectID: Int64, userID: Int64?, db: any SQLDatabase) async throws -> [(id: Int64, definition: JobDefinition)] {
        guard Set(jobs.map(\.0.name)).count == jobs.count else {
            var inserted: [(id: Int64, definition: JobDefinition)] = []
            for (definition, stageIndex) in jobs {
                inserted.append((try await insert(definition, pipelineID: pipelineID, projectID: projectID, stageIndex: stageIndex, userID: userID, db: db), definition))
            }
            return inserted
        }
        let now = Date().milliseconds
        var ids: [String: Int64] = [:]
        // 13 values a row: 300 rows stay far below SQLite's (32,766) and PostgreSQL's (65,535) bind limits.
        for chunk in stride(from: 0, to: jobs.count, by: 300).map({ jobs[$0..<min($0 + 300, jobs.count)] }) {
            let insert = db.insert(into: "jobs").columns(
                "pipeline_id", "project_id", "name", "stage", "stage_index", "status", "definition", "user_id", "retried", "uses_needs", "is_bridge",
                "created_at", "updated_at")
            for (definition, stageIndex) in chunk {
                insert.values(
                    SQLBind(pipelineID), SQLBind(projectID), SQLBind(definition.name), SQLBind(definition.stage), SQLBind(stageIndex),
                    SQLBind(JobStatus.created.rawValue), SQLBind(JSONCoding.encode(definition)), SQLBind(userID), SQLBind(false),
                    SQLBind(definition.needs != nil), SQLBind(definition.isBridge), SQLBind(now), SQLBind(now))
            }
            for row in try await insert.returning("id", "name").all() {
                ids[try row.decode(column: "name", as: String.self)] = try row.decode(column: "id", as: Int64.self)
            }
        }
        guard ids.count == jobs.count else { throw StoreError.corrupt("job insert") }
        let tags = try jobs.flatMap { definition, _ in
            guard let id = ids[definition.name] else { throw StoreError.corrupt("job insert") }
            return Set(definition.tags).sorted().map { (id, $0) }
        }
        for chunk in stride(from: 0, to: tags.count, by: 1000).map({ tags[$0..<min($0 + 1000, tags.count)] }) {
            let insert = db.insert(into: "job_tags").columns("job_id", "tag")
            for (id, tag) in chunk { insert.values(SQLBind(id), SQLBind(tag)) }
            try await insert.run()
        }
        return try jobs.map { definition, _ in
            guard let id = ids[definition.name] else { throw StoreError.corrupt("job insert") }
            return (id, definition)
        }
    }

    /// The latest attempt of every job of the pipeline, in creation order.
    static func current(pipelineID: Int64, db: any SQLDatabase) async throws -> [Job] {
        try await db.select().column("*").from("jobs").where("pipeline_id", .equal, pipelineID).where("retried", .equal, false).orderBy("id")
            .records(JobRecord.self).map(\.job)
    }

    public func find(id: Int64) async throws -> Job? {
        try await database.read { db in try await db.select().column("*").from("jobs").where("id", .equal, id).record(JobRecord.self)?.job }
    }

    public func jobs(pipelineID: Int64, filter: JobFilter = JobFilter(), page: PageRequest? = nil) async throws -> Page<Job> {
        try await database.read { db in
            let query = db.select().column("*").from("jobs").where("pipeline_id", .equal, pipelineID)
            return try await Self.filtered(query, filter, page: page, db: db)
        }
    }

    public func jobs(projectID: Int64, filter: JobFilter = JobFilter(includeRetried: true), page: PageRequest) async throws -> Page<Job> {
        try await database.read { db in
            let query = db.select().column("*").from("jobs").where("project_id", .equal, projectID)
            return try await Self.filtered(query, filter, page: page, db: db, newestFirst: true)
        }
    }

    /// The jobs a runner took (every attempt), newest first unless `oldestFirst`.
    public func jobs(runnerID: Int64, filter: JobFilter = JobFilter(includeRetried: true), oldestFirst: Bool = false, page: PageRequest) async throws -> Page<Job> {
        try await database.read { db in
            let query = db.select().column("*").from("jobs").where("runner_id", .equal, runnerID)
            return try await Self.filtered(query, filter, page: page, db: db, newestFirst: !oldestFirst)
        }
    }

    private static func filtered(_ query: SQLSelectBuilder, _ filter: JobFilter, page: PageRequest?, db: any SQLDatabase, newestFirst: Bool = false) async throws -> Page<Job> {
        if !filter.statuses.isEmpty { query.where("status", .in, filter.statuses.map(\.rawValue)) }
        if !filter.includeRetried { query.where("retried", .equal, false) }
        if let bridges = filter.bridges { query.where("is_bridge", .equal, bridges) }
        query.orderBy("id", newestFirst ? .descending : .ascending)
        if let page { return try await query.page(page, as: JobRecord.self, countOn: db).map(\.job) }
        let items = try await query.records(JobRecord.self).map(\.job)
        return Page(items: items, total: items.count, request: PageRequest(page: 1, perPage: max(items.count, 1)))
    }

    /// Starts a manual or scheduled (delayed) job now as `userID` (who becomes the job's user). Returns nil if the job is not waiting to be played.
    public func play(jobID: Int64, userID: Int64) async throws -> Job? {
        let played: Job? = try await database.transaction { db in
            let now = Date().milliseconds
            let row = try await db.update("jobs").set("status", to: JobStatus.pending.rawValue).set("user_id", to: userID).set("queued_at", to: now)
                .set("updated_at", to: now)
                .where("id", .equal, jobID).where("status", .in, [JobStatus.manual.rawValue, JobStatus.scheduled.rawValue])
                .returning("*").first()
            return try row?.record(JobRecord.self).job
        }
        if let played { try await PipelineRepository(database: database).advance(pipelineID: played.pipelineID) }
        return played
    }

    /// Cancels a job that may still run: waiting and scheduled jobs at once, running ones through `canceling`; a manual job is not
    /// cancelable (it stays playable, as GitLab's state machine has it). Returns the job, or nil if nothing changed.
    public func cancel(jobID: Int64) async throws -> Job? {
        let canceled: Job? = try await database.transaction { db in
            let now = Date().milliseconds
            let waiting = [JobStatus.created, .pending, .scheduled].map(\.rawValue)
            if let row = try await db.update("jobs").set("status", to: JobStatus.canceled.rawValue).set("finished_at", to: now).set("updated_at", to: now)
                .where("id", .equal, jobID).where("status", .in, waiting).returning("*").first()
            {
                return try row.record(JobRecord.self).job
            }
            if let row = try await db.update("jobs").set("status", to: JobStatus.canceling.rawValue).set("updated_at", to: now)
                .where("id", .equal, jobID).where("status", .equal, JobStatus.running.rawValue).where("is_bridge", .equal, false).returning("*").first()
            {
                return try row.record(JobRecord.self).job
            }
            // A running bridge has no runner to tell: it is canceled at once.
            if let row = try await db.update("jobs").set("status", to: JobStatus.canceled.rawValue).set("finished_at", to: now).set("updated_at", to: now)
                .where("id", .equal, jobID).where("status", .equal, JobStatus.running.rawValue).where("is_bridge", .equal, true).returning("*").first()
            {
                return try row.record(JobRecord.self).job
            }
            return nil
        }
        if let canceled { try await PipelineRepository(database: database).advance(pipelineID: canceled.pipelineID) }
        return canceled
    }

    /// Retries a finished job as a new job acting as `userID`. Returns the new job, or nil if the job cannot be retried.
    public func retry(jobID: Int64, userID: Int64) async throws -> Job? {
        // A bridge refused for a loop or for depth would only be refused again (GitLab's `Ci::Bridge#retryable?`).
        if let job = try await find(id: jobID), job.definition.isBridge,
            [BridgeFailure.loop.rawValue, BridgeFailure.maximumDepth.rawValue].contains(job.failureReason ?? "")
        {
            return nil
        }
        let newID: Int64? = try await database.transaction { db in
            let finished = [JobStatus.success, .failed, .canceled].map(\.rawValue)
            guard
                let old = try await db.update("jobs").set("retried", to: true).where("id", .equal, jobID).where("status", .in, finished)
                    .where("retried", .equal, false).returning("*").first()?.record(JobRecord.self).job
            else { return nil }
            // Jobs the failure skipped get another chance, as in GitLab: later stages and jobs that need this one go back to created.
            let later = try await Self.current(pipelineID: old.pipelineID, db: db).filter { job in
                job.status == .skipped && (job.stageIndex > old.stageIndex || (job.definition.needs ?? []).contains(old.name))
            }
            if !later.isEmpty {
                try await db.update("jobs").set("status", to: JobStatus.created.rawValue).set("finished_at", to: SQLLiteral.null)
                    .where("id", .in, later.map(\.id)).run()
            }
            // A retried manual or delayed job runs when its stage lets it, without waiting for a person or its start_in again
            // (GitLab's `enqueue_immediately` for actionable jobs).
            var definition = old.definition
            if definition.when == .manual || definition.when == .delayed {
                definition.when = .onSuccess
                definition.startInSeconds = nil
            }
            let id = try await Self.insert(definition, pipelineID: old.pipelineID, projectID: old.projectID, stageIndex: old.stageIndex, userID: userID, db: db)
            // A retried deploy job is a new deployment, as in GitLab.
            if let environment = definition.environment,
                let pipeline = try await db.select().column("*").from("pipelines").where("id", .equal, old.pipelineID).record(PipelineRecord.self)
            {
                try await EnvironmentRepository.recordJobs(
                    [(id, environment)], projectID: old.projectID, ref: pipeline.ref, sha: pipeline.sha, isTag: pipeline.isTag, userID: userID, db: db)
            }
            return id
        }
        guard let newID else { return nil }
        guard let job = try await find(id: newID) else { return nil }
        try await PipelineRepository(database: database).advance(pipelineID: job.pipelineID)
        return try await find(id: newID)
    }
}
