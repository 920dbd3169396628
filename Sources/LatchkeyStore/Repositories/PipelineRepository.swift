import Foundation
import LatchkeyCore
import SQLKit

struct PipelineRecord: Codable, Sendable {
    var id: Int64
    var iid: Int64
    var projectId: Int64
    var ref: String
    var sha: String
    var beforeSha: String
    var isTag: Bool
    var source: String
    var status: String
    var userId: Int64?
    var scheduleId: Int64?
    var upstreamJobId: Int64?
    var yamlErrors: String?
    var variables: String
    var createdAt: Int64
    var updatedAt: Int64
    var startedAt: Int64?
    var finishedAt: Int64?
    var name: String?

    var pipeline: Pipeline {
        Pipeline(
            id: id, iid: iid, projectID: projectId, ref: ref, sha: sha, beforeSHA: beforeSha, isTag: isTag, source: PipelineSource(rawValue: source) ?? .push,
            status: PipelineStatus(rawValue: status) ?? .failed, userID: userId, scheduleID: scheduleId, upstreamJobID: upstreamJobId, yamlErrors: yamlErrors,
            variables: JSONCoding.decode([CIVariable].self, from: variables) ?? [], createdAt: Date(milliseconds: createdAt),
            updatedAt: Date(milliseconds: updatedAt), startedAt: startedAt.map(Date.init(milliseconds:)), finishedAt: finishedAt.map(Date.init(milliseconds:)), name: name)
    }
}

/// JSON columns (job definitions, variables): encoded one way everywhere.
enum JSONCoding {
    static func encode(_ value: some Encodable) -> String {
        (try? String(decoding: JSONEncoder().encode(value), as: UTF8.self)) ?? "null"
    }

    static func decode<T: Decodable>(_ type: T.Type, from text: String) -> T? {
        try? JSONDecoder().decode(T.self, from: Data(text.utf8))
    }
}

/// How a new pipeline came to be.
public struct NewPipeline: Sendable {
    public var projectID: Int64
    public var ref: String
    public var sha: String
    public var beforeSHA: String
    public var isTag: Bool
    public var source: PipelineSource
    public var userID: Int64?
    public var scheduleID: Int64?
    public var upstreamJobID: Int64?
    public var variables: [CIVariable]

    public init(
        projectID: Int64, ref: String, sha: String, beforeSHA: String = String(repeating: "0", count: 40), isTag: Bool = false, source: PipelineSource,
        userID: Int64?, scheduleID: Int64? = nil, upstreamJobID: Int64? = nil, variables: [CIVariable] = []
    ) {
        self.projectID = projectID
        self.ref = ref
        self.sha = sha
        self.beforeSHA = beforeSHA
        self.isTag = isTag
        self.source = source
        self.userID = userID
        self.scheduleID = scheduleID
        self.upstreamJobID = upstreamJobID
        self.variables = variables
    }
}

/// Filters of `GET /projects/:id/pipelines`.
public struct PipelineFilter: Sendable {
    public var ref: String?
    public var sha: String?
    public var status: PipelineStatus?
    public var source: PipelineSource?
    public var ascending = false
    public var orderBy = "id"

    public init(ref: String? = nil, sha: String? = nil, status: PipelineStatus? = nil, source: PipelineSource? = nil) {
        self.ref = ref
        self.sha = sha
        self.status = status
        self.source = source
    }
}

/// Pipelines, and the progression of their jobs.
public struct PipelineRepository: Sendable {
    let database: Database

    /// Creates a pipeline with its jobs from a parsed configuration, or a failed pipeline carrying the YAML errors, and advances it.
    /// `workflow:name`, cut to what the column keeps (never inside a character).
    static func pipelineName(_ configuration: Result<PipelineDefinition, CIConfigError>) -> String? {
        guard case .success(let definition) = configuration, let name = definition.name, !name.isEmpty else { return nil }
        return String(name.prefix(Pipeline.maximumNameLength))
    }

    static func addName(_ db: any SQLDatabase, _ kind: DatabaseKind) async throws {
        try await db.alter(table: "pipelines").column("name", type: .text).run()
    }

    /// Renames the pipeline (`PUT …/pipelines/:id/metadata`); the pipeline as it is now, nil if there is none.
    public func setName(pipelineID: Int64, name: String) async throws -> Pipeline? {
        try await database.read { db in
            try await db.update("pipelines").set("name", to: name).set("updated_at", to: Date().milliseconds).where("id", .equal, pipelineID)
                .returning("*").first()?.record(PipelineRecord.self).pipeline
        }
    }

    public func create(_ new: NewPipeline, configuration: Result<PipelineDefinition, CIConfigError>) async throws -> Pipeline {
        let id: Int64 = try await database.transaction { db in
            let now = Date().milliseconds
            let nextIID =
                (try await db.select().column(SQLFunction("MAX", args: SQLIdentifier("iid")), as: "m").from("pipelines")
                    .where("project_id", .equal, new.projectID).first()?.decode(column: "m", as: Int64?.self) ?? 0) + 1
            var yamlErrors: String?
            var status = PipelineStatus.created
            if case .failure(let error) = configuration {
                yamlErrors = error.messages.joined(separator: ", ")
                status = .failed
            }
            guard
                let record = try await db.insert(into: "pipelines")
                    .columns(
                        "iid", "project_id", "ref", "sha", "before_sha", "is_tag", "source", "status", "user_id", "schedule_id", "upstream_job_id",
                        "yaml_errors", "variables", "created_at", "updated_at", "started_at", "finished_at", "name"
                    )
                    .values(
                        SQLBind(nextIID), SQLBind(new.projectID), SQLBind(new.ref), SQLBind(new.sha), SQLBind(new.beforeSHA), SQLBind(new.isTag),
                        SQLBind(new.source.rawValue), SQLBind(status.rawValue), SQLBind(new.userID), SQLBind(new.scheduleID), SQLBind(new.upstreamJobID),
                        SQLBind(yamlErrors), SQLBind(JSONCoding.encode(new.variables)), SQLBind(now), SQLBind(now), SQLBind(Int64?.none),
                        SQLBind(status == .failed ? now : nil), SQLBind(Self.pipelineName(configuration))
                    )
                    .returning("*").first()?.record(PipelineRecord.self)
            else { throw StoreError.corrupt("pipeline insert") }
            if case .success(let definition) = configuration {
                let jobs = definition.jobs.map { job in
                    var job = job
                    // Global `variables:` apply to every job `inherit:variables` lets them reach; the job's own come later and win.
                    job.variables = definition.yamlVariables(of: job)
                    return (job, definition.stages.firstIndex(of: job.stage) ?? 0)
                }
                let inserted = try await JobRepository.insertAll(jobs, pipelineID: record.id, projectID: new.projectID, userID: new.userID, db: db)
                let deploying = inserted.compactMap { job in job.definition.environment.map { (id: job.id, environment: $0) } }
                if !deploying.isEmpty {
                    try await EnvironmentRepository.recordJobs(
                        deploying, projectID: new.projectID, ref: new.ref, sha: new.sha, isTag: new.isTag, userID: new.userID, db: db)
                }
            }
            return record.id
        }
        try await advance(pipelineID: id)
        guard let pipeline = try await find(id: id) else { throw StoreError.notFound }
        return pipeline
    }

    /// Applies GitLab's progression rules until nothing changes, then stores the pipeline's composite status.
    public func advance(pipelineID: Int64) async throws {
        let ended: (Pipeline, PipelineStatus)? = try await database.transaction { db in
            if database.kind == .postgres {
                // Serialise concurrent progressions of one pipeline (two jobs finishing at once) before reading its state.
                try await db.raw("SELECT id FROM pipelines WHERE id = \(bind: pipelineID) FOR UPDATE").run()
            }
            guard let pipeline = try await db.select().column("*").from("pipelines").where("id", .equal, pipelineID).record(PipelineRecord.self)?.pipeline
            else { return nil }
            // A pipeline whose file failed to read was finished when it was made; its bridge learns of that from its starter.
            guard pipeline.yamlErrors == nil else { return nil }
            var jobs = try await JobRepository.current(pipelineID: pipelineID, db: db)
            let now = Date().milliseconds
            while true {
                let changes = PipelineProgression.advance(jobs.map(\.progression))
                if changes.isEmpty { break }
                // One statement per new status (a 1,000-job stage is queued by one UPDATE, not 1,000).
                for (status, entries) in Dictionary(grouping: changes, by: \.value) {
                    let indices = entries.map(\.key)
                    for index in indices { jobs[index].status = status }
                    for chunk in stride(from: 0, to: indices.count, by: 500).map({ Array(indices[$0..<min($0 + 500, indices.count)]) }) {
                        let update = db.update("jobs").set("status", to: status.rawValue).set("updated_at", to: now).where("id", .in, chunk.map { jobs[$0].id })
                        if status == .pending { update.set("queued_at", to: now) }
                        if status.isFinished { update.set("finished_at", to: now) }
                        try await update.run()
                    }
                    if status == .scheduled {
                        // Each delayed job has its own `start_in` (clamped to GitLab's week when it was read).
                        for index in indices {
                            let delay = Int64(min(max(jobs[index].definition.startInSeconds ?? 0, 0), 7 * 24 * 3600)) * 1000
                            try await db.update("jobs").set("scheduled_at", to: now + delay).where("id", .equal, jobs[index].id).run()
                        }
                    }
                }
            }
            let status = jobs.isEmpty ? PipelineStatus.skipped : PipelineProgression.status(of: jobs.map(\.progression))
            guard status != pipeline.status else { return nil }
            let update = db.update("pipelines").set("status", to: status.rawValue).set("updated_at", to: now).where("id", .equal, pipelineID)
            if pipeline.startedAt == nil, [.running, .success, .failed].contains(status) { update.set("started_at", to: now) }
            if [.success, .failed, .canceled, .skipped].contains(status) { update.set("finished_at", to: now) } else { update.set("finished_at", to: SQLLiteral.null) }
            try await update.run()
            return (pipeline, status)
        }
        // After the commit, so the bridge's pipeline, advanced next, sees this one ended.
        if let (pipeline, status) = ended { try await mirrorToBridge(pipeline, status: status) }
    }

    /// Deletes the pipeline (its jobs, their tokens and artifact rows cascade) and returns the files its jobs named, for the caller
    /// to remove: traces by job id and artifact archives.
    public func deleteReturningFiles(id: Int64) async throws -> ProjectFiles {
        try await database.transaction { db in
            var files = ProjectFiles()
            files.jobIDs = try await db.select().column("id").from("jobs").where("pipeline_id", .equal, id).all()
                .map { try $0.decode(column: "id", as: Int64.self) }
            if !files.jobIDs.isEmpty {
                files.artifactPaths = try await db.select().column("storage_path").from("job_artifacts").where("job_id", .in, files.jobIDs).all()
                    .map { try $0.decode(column: "storage_path", as: String.self) }
            }
            try await db.delete(from: "pipelines").where("id", .equal, id).run()
            return files
        }
    }

    public func find(id: Int64) async throws -> Pipeline? {
        try await database.read { db in
            try await db.select().column("*").from("pipelines").where("id", .equal, id).record(PipelineRecord.self)?.pipeline
        }
    }

    public func list(projectID: Int64, filter: PipelineFilter, page: PageRequest) async throws -> Page<Pipeline> {
        try await database.read { db in
            let query = db.select().column("*").from("pipelines").where("project_id", .equal, projectID)
            if let ref = filter.ref { query.where("ref", .equal, ref) }
            if let sha = filter.sha { query.where("sha", .equal, sha) }
            if let status = filter.status { query.where("status", .equal, status.rawValue) }
            if let source = filter.source { query.where("source", .equal, source.rawValue) }
            let column = ["id", "status", "ref", "updated_at", "user_id"].contains(filter.orderBy) ? filter.orderBy : "id"
            query.orderBy(column, filter.ascending ? .ascending : .descending).orderBy("id", filter.ascending ? .ascending : .descending)
            return try await query.page(page, as: PipelineRecord.self, countOn: db).map(\.pipeline)
        }
    }

    /// The newest pipeline of a ref, for "latest" lookups.
    public func latest(projectID: Int64, ref: String, status: PipelineStatus? = nil) async throws -> Pipeline? {
        try await list(projectID: projectID, filter: PipelineFilter(ref: ref, status: status), page: PageRequest(page: 1, perPage: 1)).items.first
    }
}
