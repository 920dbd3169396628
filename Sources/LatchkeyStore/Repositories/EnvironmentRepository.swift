import Foundation
import LatchkeyCore
import SQLKit

struct EnvironmentRecord: Codable, Sendable {
    var id: Int64
    var projectId: Int64
    var name: String
    var slug: String
    var externalUrl: String?
    var tier: String
    var stoppedAt: Int64?
    var createdAt: Int64
    var updatedAt: Int64

    func environment(state: EnvironmentState) -> DeploymentEnvironment {
        DeploymentEnvironment(
            id: id, projectID: projectId, name: name, slug: slug, externalURL: externalUrl, tier: EnvironmentTier(rawValue: tier) ?? .other, state: state,
            createdAt: Date(milliseconds: createdAt), updatedAt: Date(milliseconds: updatedAt))
    }
}

/// A deployment row with the status, start and end of the job behind it (nil for one recorded through the API).
struct DeploymentRecord: Codable, Sendable {
    var id: Int64
    var iid: Int64?
    var projectId: Int64
    var environmentId: Int64
    var jobId: Int64?
    var action: String
    var ref: String
    var sha: String
    var isTag: Bool
    var userId: Int64?
    var status: String
    var createdAt: Int64
    var updatedAt: Int64
    var finishedAt: Int64?
    var jobStatus: String?
    var jobStartedAt: Int64?
    var jobQueuedAt: Int64?
    var jobFinishedAt: Int64?

    var currentStatus: DeploymentStatus {
        if let jobStatus, let status = JobStatus(rawValue: jobStatus) { return DeploymentStatus(job: status) }
        return DeploymentStatus(rawValue: status) ?? .failed
    }

    var deployment: Deployment {
        Deployment(
            id: id, iid: iid ?? 0, projectID: projectId, environmentID: environmentId, jobID: jobId, ref: ref, sha: sha, isTag: isTag, userID: userId,
            status: currentStatus, createdAt: Date(milliseconds: createdAt),
            updatedAt: Date(milliseconds: max(updatedAt, jobFinishedAt ?? jobStartedAt ?? 0)),
            finishedAt: (jobId == nil ? finishedAt : jobFinishedAt).map(Date.init(milliseconds:)))
    }

    /// This row's part in its environment's state.
    var event: EnvironmentState.Event {
        let action = CIEnvironment.Action(rawValue: action) ?? .start
        var status = currentStatus
        if action == .stop, jobStatus == JobStatus.pending.rawValue { status = .running }
        let at: Int64 = action == .stop ? (jobFinishedAt ?? jobQueuedAt ?? updatedAt) : (jobId == nil ? updatedAt : (jobStartedAt ?? createdAt))
        return EnvironmentState.Event(action: action, status: status, at: Date(milliseconds: at))
    }
}

/// Filters of `GET /projects/:id/environments`.
public struct EnvironmentFilter: Sendable {
    public var name: String?
    public var search: String?
    public var states: EnvironmentState?

    public init(name: String? = nil, search: String? = nil, states: EnvironmentState? = nil) {
        self.name = name
        self.search = search
        self.states = states
    }
}

/// Filters and order of `GET /projects/:id/deployments`.
public struct DeploymentFilter: Sendable {
    public var environment: String?
    public var status: DeploymentStatus?
    public var updatedAfter: Date?
    public var updatedBefore: Date?
    public var orderBy = "id"
    public var ascending = true

    public init() {}
}

/// What the deployments API records for a deployment made outside CI.
public struct NewDeployment: Sendable {
    public var environment: String
    public var ref: String
    public var sha: String
    public var isTag: Bool
    public var status: DeploymentStatus
    public var userID: Int64

    public init(environment: String, ref: String, sha: String, isTag: Bool, status: DeploymentStatus, userID: Int64) {
        self.environment = environment
        self.ref = ref
        self.sha = sha
        self.isTag = isTag
        self.status = status
        self.userID = userID
    }
}

/// Environments and their deployments; a deployment made by a job takes its status from the job at every read.
public struct EnvironmentRepository: Sendable {
    let database: Database

    // MARK: Environments

    public func environments(projectID: Int64, filter: EnvironmentFilter = EnvironmentFilter()) async throws -> [DeploymentEnvironment] {
        try await database.read { db in
            let query = db.select().column("*").from("environments").where("project_id", .equal, projectID).orderBy("id")
            if let name = filter.name { query.where("name", .equal, name) }
            let records = try await query.records(EnvironmentRecord.self)
            var found = try await Self.withStates(records, db: db)
            if let search = filter.search, !search.isEmpty { found = found.filter { $0.name.localizedCaseInsensitiveContains(search) } }
            if let state = filter.states { found = found.filter { $0.state == state } }
            return found
        }
    }

    /// What a job deploying to `name` is told about it (slug, tier, URL), without deriving its state: one row, for job claiming.
    public func jobFacts(projectID: Int64, name: String) async throws -> (slug: String, tier: EnvironmentTier, externalURL: String?)? {
        try await database.read { db in
            try await Self.named(name, projectID: projectID, db: db).map { ($0.slug, EnvironmentTier(rawValue: $0.tier) ?? .other, $0.externalUrl) }
        }
    }

    public func environment(id: Int64, projectID: Int64) async throws -> DeploymentEnvironment? {
        try await database.read { db in
            guard
                let record = try await db.select().column("*").from("environments").where("id", .equal, id).where("project_id", .equal, projectID)
                    .record(EnvironmentRecord.self)
            else { return nil }
            return try await Self.withStates([record], db: db).first
        }
    }

    /// Creates an environment; `StoreError.duplicate` when the project has one by that name.
    public func create(projectID: Int64, name: String, externalURL: String?, tier: EnvironmentTier?) async throws -> DeploymentEnvironment {
        try await database.read { db in
            do {
                let record = try await Self.insert(projectID: projectID, name: name, externalURL: externalURL, tier: tier, db: db)
                return record.environment(state: .available)
            } catch where error.isUniqueViolation {
                throw StoreError.duplicate("Environment")
            }
        }
    }

    public func update(id: Int64, projectID: Int64, externalURL: String??, tier: EnvironmentTier?) async throws -> DeploymentEnvironment? {
        try await database.read { db in
            let update = db.update("environments").set("updated_at", to: Date().milliseconds).where("id", .equal, id).where("project_id", .equal, projectID)
            if let externalURL { update.set("external_url", to: externalURL) }
            if let tier { update.set("tier", to: tier.rawValue) }
            try await update.run()
        }
        return try await environment(id: id, projectID: projectID)
    }

    /// Marks the environment stopped now (the API's stop with no stop job to run, or `force`).
    public func markStopped(id: Int64, projectID: Int64) async throws {
        try await database.read { db in
            let now = Date().milliseconds
            try await db.update("environments").set("stopped_at", to: now).set("updated_at", to: now).where("id", .equal, id)
                .where("project_id", .equal, projectID).run()
        }
    }

    public func delete(id: Int64, projectID: Int64) async throws {
        try await database.read { db in
            try await db.delete(from: "environments").where("id", .equal, id).where("project_id", .equal, projectID).run()
        }
    }

    /// The `on_stop` job of the environment's latest deployment that names one, if it is still waiting to be played.
    public func waitingStopJob(environmentID: Int64) async throws -> Int64? {
        try await database.read { db in
            let starts = try await db.select().column(SQLColumn("definition", table: "jobs")).column(SQLColumn("pipeline_id", table: "jobs")).from("deployments")
                .join("jobs", on: SQLColumn("job_id", table: "deployments"), .equal, SQLColumn("id", table: "jobs"))
                .where(SQLColumn("environment_id", table: "deployments"), .equal, SQLBind(environmentID))
                .where(SQLColumn("action", table: "deployments"), .equal, SQLBind(CIEnvironment.Action.start.rawValue))
                .orderBy(SQLColumn("id", table: "deployments"), SQLDirection.descending).limit(20).all()
            for row in starts {
                guard
                    let definition = JSONCoding.decode(JobDefinition.self, from: try row.decode(column: "definition", as: String.self)),
                    let stop = definition.environment?.onStop
                else { continue }
                let pipelineID = try row.decode(column: "pipeline_id", as: Int64.self)
                return try await db.select().column("id").from("jobs").where("pipeline_id", .equal, pipelineID).where("name", .equal, stop)
                    .where("retried", .equal, false).where("status", .in, [JobStatus.manual.rawValue, JobStatus.created.rawValue])
                    .first()?.decode(column: "id", as: Int64.self)
            }
            return nil
        }
    }

    // MARK: Deployments

    public func deployments(projectID: Int64, filter: DeploymentFilter, page: PageRequest) async throws -> Page<Deployment> {
        let all: [Deployment] = try await database.read { db in
            let query = Self.deploymentQuery(db).where(SQLColumn("project_id", table: "d"), .equal, SQLBind(projectID))
                .where(SQLColumn("action", table: "d"), .equal, SQLBind(CIEnvironment.Action.start.rawValue))
            if let name = filter.environment {
                query.where(
                    SQLColumn("environment_id", table: "d"), .in,
                    SQLGroupExpression(db.select().column("id").from("environments").where("project_id", .equal, projectID).where("name", .equal, name).select))
            }
            return try await query.orderBy(SQLColumn("id", table: "d")).records(DeploymentRecord.self).map(\.deployment)
        }
        var found = all
        if let status = filter.status { found = found.filter { $0.status == status } }
        if let after = filter.updatedAfter { found = found.filter { $0.updatedAt > after } }
        if let before = filter.updatedBefore { found = found.filter { $0.updatedAt < before } }
        switch filter.orderBy {
        case "iid": found.sort { $0.iid < $1.iid }
        case "created_at": found.sort { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) }
        case "updated_at": found.sort { ($0.updatedAt, $0.id) < ($1.updatedAt, $1.id) }
        case "finished_at": found.sort { ($0.finishedAt ?? .distantFuture, $0.id) < ($1.finishedAt ?? .distantFuture, $1.id) }
        case "ref": found.sort { ($0.ref, $0.id) < ($1.ref, $1.id) }
        default: break
        }
        if !filter.ascending { found.reverse() }
        return Page(items: Array(found.dropFirst(page.offset).prefix(page.perPage)), total: found.count, request: page)
    }

    public func deployment(id: Int64, projectID: Int64) async throws -> Deployment? {
        try await database.read { db in
            try await Self.deploymentQuery(db).where(SQLColumn("id", table: "d"), .equal, SQLBind(id))
                .where(SQLColumn("project_id", table: "d"), .equal, SQLBind(projectID))
                .where(SQLColumn("action", table: "d"), .equal, SQLBind(CIEnvironment.Action.start.rawValue))
                .record(DeploymentRecord.self)?.deployment
        }
    }

    /// The environment's latest successful deployment (GitLab's `last_deployment`).
    public func lastDeployment(environmentID: Int64) async throws -> Deployment? {
        try await database.read { db in
            try await Self.deploymentQuery(db).where(SQLColumn("environment_id", table: "d"), .equal, SQLBind(environmentID))
                .where(SQLColumn("action", table: "d"), .equal, SQLBind(CIEnvironment.Action.start.rawValue))
                .orderBy(SQLColumn("id", table: "d"), SQLDirection.descending).records(DeploymentRecord.self).map(\.deployment).first { $0.status == .success }
        }
    }

    /// Records a deployment made outside CI, creating its environment if the project has none by that name.
    public func record(projectID: Int64, _ new: NewDeployment) async throws -> Deployment {
        let id: Int64 = try await database.transaction { db in
            let environment = try await Self.findOrCreate(projectID: projectID, name: new.environment, externalURL: nil, tier: nil, db: db)
            let now = Date().milliseconds
            return try await Self.insertDeployment(
                projectID: projectID, environmentID: environment.id, jobID: nil, action: .start, ref: new.ref, sha: new.sha, isTag: new.isTag, userID: new.userID,
                status: new.status, finishedAt: new.status.isFinished ? now : nil, db: db)
        }
        guard let deployment = try await deployment(id: id, projectID: projectID) else { throw StoreError.notFound }
        return deployment
    }

    /// Sets the status of a deployment recorded through the API (a job's deployment follows its job).
    public func setStatus(id: Int64, projectID: Int64, status: DeploymentStatus) async throws -> Deployment? {
        try await database.read { db in
            let now = Date().milliseconds
            try await db.update("deployments").set("status", to: status.rawValue).set("updated_at", to: now)
                .set("finished_at", to: status.isFinished ? SQLBind(now) : SQLBind(Int64?.none))
                .where("id", .equal, id).where("project_id", .equal, projectID).where("job_id", .is, SQLLiteral.null).run()
        }
        return try await deployment(id: id, projectID: projectID)
    }

    public func deleteDeployment(id: Int64, projectID: Int64) async throws {
        try await database.read { db in
            try await db.delete(from: "deployments").where("id", .equal, id).where("project_id", .equal, projectID).run()
        }
    }

    // MARK: Jobs with `environment:`

    /// Records the environment part of new jobs (in the transaction that inserts them): each job's environment, found or created,
    /// and a deployment row per job (only `action: start` rows are deployments to the API; the others feed the state).
    static func recordJobs(
        _ jobs: [(id: Int64, environment: CIEnvironment)], projectID: Int64, ref: String, sha: String, isTag: Bool, userID: Int64?, db: any SQLDatabase
    ) async throws {
        for (jobID, spec) in jobs {
            let url = spec.url.flatMap { $0.isEmpty ? nil : $0 }
            let environment = try await findOrCreate(projectID: projectID, name: spec.name, externalURL: url, tier: spec.deploymentTier, db: db)
            if spec.action == .start, let url, url != environment.externalUrl {
                try await db.update("environments").set("external_url", to: url).where("id", .equal, environment.id).run()
            }
            try await insertDeployment(
                projectID: projectID, environmentID: environment.id, jobID: jobID, action: spec.action, ref: ref, sha: sha, isTag: isTag, userID: userID,
                status: .created, finishedAt: nil, db: db)
        }
    }

    static func findOrCreate(projectID: Int64, name: String, externalURL: String?, tier: EnvironmentTier?, db: any SQLDatabase) async throws -> EnvironmentRecord {
        // Two pipelines naming a new environment at once both insert; the loser's row is dropped, not an error that would abort its
        // transaction.
        try await insertion(projectID: projectID, name: name, externalURL: externalURL, tier: tier, db: db).ignoringConflicts(with: ["project_id", "name"]).run()
        guard let record = try await named(name, projectID: projectID, db: db) else { throw StoreError.corrupt("environment insert") }
        return record
    }

    static func insert(projectID: Int64, name: String, externalURL: String?, tier: EnvironmentTier?, db: any SQLDatabase) async throws -> EnvironmentRecord {
        guard
            let record = try await insertion(projectID: projectID, name: name, externalURL: externalURL, tier: tier, db: db).returning("*").first()?
                .record(EnvironmentRecord.self)
        else { throw StoreError.corrupt("environment insert") }
        return record
    }

    /// The row of a new environment: its slug made once from the name, its tier given or guessed.
    private static func insertion(projectID: Int64, name: String, externalURL: String?, tier: EnvironmentTier?, db: any SQLDatabase) -> SQLInsertBuilder {
        let now = Date().milliseconds
        return db.insert(into: "environments").columns("project_id", "name", "slug", "external_url", "tier", "created_at", "updated_at")
            .values(
                SQLBind(projectID), SQLBind(name), SQLBind(EnvironmentName.slug(name)), SQLBind(externalURL),
                SQLBind((tier ?? EnvironmentTier.guess(from: name)).rawValue), SQLBind(now), SQLBind(now))
    }

    static func named(_ name: String, projectID: Int64, db: any SQLDatabase) async throws -> EnvironmentRecord? {
        try await db.select().column("*").from("environments").where("project_id", .equal, projectID).where("name", .equal, name)
            .record(EnvironmentRecord.self)
    }

    @discardableResult
    static func insertDeployment(
        projectID: Int64, environmentID: Int64, jobID: Int64?, action: CIEnvironment.Action, ref: String, sha: String, isTag: Bool, userID: Int64?,
        status: DeploymentStatus, finishedAt: Int64?, db: any SQLDatabase
    ) async throws -> Int64 {
        let now = Date().milliseconds
        var iid: Int64?
        if action == .start {
            iid =
                (try await db.select().column(SQLFunction("MAX", args: SQLIdentifier("iid")), as: "m").from("deployments")
                    .where("project_id", .equal, projectID).first()?.decode(column: "m", as: Int64?.self) ?? 0) + 1
        }
        guard
            let id = try await db.insert(into: "deployments")
                .columns(
                    "iid", "project_id", "environment_id", "job_id", "action", "ref", "sha", "is_tag", "user_id", "status", "created_at", "updated_at",
                    "finished_at"
                )
                .values(
                    SQLBind(iid), SQLBind(projectID), SQLBind(environmentID), SQLBind(jobID), SQLBind(action.rawValue), SQLBind(ref), SQLBind(sha),
                    SQLBind(isTag), SQLBind(userID), SQLBind(status.rawValue), SQLBind(now), SQLBind(now), SQLBind(finishedAt)
                )
                .returning("id").first()?.decode(column: "id", as: Int64.self)
        else { throw StoreError.corrupt("deployment insert") }
        return id
    }

    static func deploymentQuery(_ db: any SQLDatabase) -> SQLSelectBuilder {
        db.select().column(SQLColumn(SQLLiteral.all, table: SQLIdentifier("d")))
            .column(SQLAlias(SQLColumn("status", table: "j"), as: SQLIdentifier("job_status")))
            .column(SQLAlias(SQLColumn("started_at", table: "j"), as: SQLIdentifier("job_started_at")))
            .column(SQLAlias(SQLColumn("queued_at", table: "j"), as: SQLIdentifier("job_queued_at")))
            .column(SQLAlias(SQLColumn("finished_at", table: "j"), as: SQLIdentifier("job_finished_at")))
            .from(SQLAlias(SQLIdentifier("deployments"), as: SQLIdentifier("d")))
            .join(SQLAlias(SQLIdentifier("jobs"), as: SQLIdentifier("j")), method: SQLJoinMethod.left, on: SQLColumn("job_id", table: "d"), .equal, SQLColumn("id", table: "j"))
    }

    /// The environments with their states, from one query over all their jobs' and API deployments' rows.
    static func withStates(_ records: [EnvironmentRecord], db: any SQLDatabase) async throws -> [DeploymentEnvironment] {
        guard !records.isEmpty else { return [] }
        var events: [Int64: [EnvironmentState.Event]] = [:]
        for chunk in stride(from: 0, to: records.count, by: 500).map({ records[$0..<min($0 + 500, records.count)] }) {
            for row in try await deploymentQuery(db).where(SQLColumn("environment_id", table: "d"), .in, SQLBind.group(chunk.map(\.id))).records(DeploymentRecord.self) {
                events[row.environmentId, default: []].append(row.event)
            }
        }
        return records.map { record in
            record.environment(state: EnvironmentState.derive(stoppedAt: record.stoppedAt.map(Date.init(milliseconds:)), events: events[record.id] ?? []))
        }
    }

    static func createTables(_ db: any SQLDatabase, _ kind: DatabaseKind) async throws {
        // Ids reach the API: SQLite must never hand a deleted one out again (see migration 5).
        func primaryKey() -> SQLColumnConstraintAlgorithm { kind == .sqlite ? .custom(SQLRaw("PRIMARY KEY AUTOINCREMENT")) : .primaryKey(autoIncrement: true) }
        try await db.create(table: "environments")
            .column("id", type: .bigint, primaryKey())
            .column("project_id", type: .bigint, .notNull, .references("projects", "id", onDelete: .cascade))
            .column("name", type: .text, .notNull)
            .column("slug", type: .text, .notNull)
            .column("external_url", type: .text)
            .column("tier", type: .text, .notNull)
            .column("stopped_at", type: .bigint)
            .column("created_at", type: .bigint, .notNull)
            .column("updated_at", type: .bigint, .notNull)
            .unique("project_id", "name")
            .run()
        try await db.create(table: "deployments")
            .column("id", type: .bigint, primaryKey())
            .column("iid", type: .bigint)
            .column("project_id", type: .bigint, .notNull, .references("projects", "id", onDelete: .cascade))
            .column("environment_id", type: .bigint, .notNull, .references("environments", "id", onDelete: .cascade))
            .column("job_id", type: .bigint, .references("jobs", "id", onDelete: .cascade))
            .column("action", type: .text, .notNull)
            .column("ref", type: .text, .notNull)
            .column("sha", type: .text, .notNull)
            .column("is_tag", type: Schema.boolean, .notNull)
            .column("user_id", type: .bigint)
            .column("status", type: .text, .notNull)
            .column("created_at", type: .bigint, .notNull)
            .column("updated_at", type: .bigint, .notNull)
            .column("finished_at", type: .bigint)
            .run()
        try await db.create(index: "deployments_by_environment").on("deployments").column("environment_id").run()
        try await db.create(index: "deployments_by_project").on("deployments").column("project_id").column("iid").run()
        try await db.create(index: "deployments_by_job").on("deployments").column("job_id").run()
    }
}
