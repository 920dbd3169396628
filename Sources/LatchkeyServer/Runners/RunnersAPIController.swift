import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// GitLab's runner administration: `GET /runners` (the caller's own group and project runners: Latchkey has none, so an
/// empty list), `GET /runners/all`, `GET/PUT/DELETE /runners/:id` and `GET /runners/:id/jobs` for administrators, and
/// `GET /projects/:id/runners` for a project's Maintainers.
///
/// GitLab lets any signed-in user read an instance runner's details; here only administrators do (a runner's
/// description, version and tags describe the build infrastructure, which is no business of every user).
struct RunnersAPIController {
    let store: Store
    let repositories: RepositoryStore
    let authorizer: Authorizer
    let baseURL: String

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("runners", use: owned)
        routes.get("runners/all", use: all)
        routes.get("runners/:runner_id", use: show)
        routes.put("runners/:runner_id", use: update)
        routes.delete("runners/:runner_id", use: delete)
        routes.get("runners/:runner_id/jobs", use: jobs)
        routes.get("projects/:id/runners", use: projectRunners)
        return routes
    }

    /// A runner as GitLab lists it.
    struct RunnerEntity: Encodable {
        var id: Int64
        var description: String
        @Nullable var ipAddress: String?
        var active: Bool
        var paused: Bool
        var isShared = true
        var runnerType = "instance_type"
        @Nullable var name: String?
        var online: Bool
        var status: String
        var createdAt: Date

        init(_ runner: Runner, now: Date) {
            id = runner.id
            description = runner.description
            active = runner.active
            paused = !runner.active
            name = runner.embedded ? "latchkey" : nil
            online = RunnerStatus(runner, now: now) == .online
            status = RunnerStatus(runner, now: now).rawValue
            createdAt = runner.createdAt
        }
    }

    /// A runner with the details of `GET /runners/:id`: the listed fields and these.
    struct RunnerDetails: Encodable {
        struct Details: Encodable {
            @Nullable var contactedAt: Date?
            var tagList: [String]
            var runUntagged: Bool
            var locked: Bool
            var accessLevel = "not_protected"
            @Nullable var maximumTimeout: Int?
            @Nullable var version: String?
            @Nullable var revision: String?
            @Nullable var platform: String?
            @Nullable var architecture: String?
            @Nullable var maintenanceNote: String?
            var projects: [Int] = []
            var groups: [Int] = []
        }

        var listed: RunnerEntity
        var details: Details

        init(_ runner: Runner, now: Date) {
            listed = RunnerEntity(runner, now: now)
            details = Details(
                contactedAt: runner.contactedAt, tagList: runner.tags.sorted(), runUntagged: runner.runUntagged, locked: runner.locked,
                version: runner.version.isEmpty ? nil : runner.version)
        }

        func encode(to encoder: any Encoder) throws {
            try listed.encode(to: encoder)
            try details.encode(to: encoder)
        }
    }

    @Sendable func owned(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard context.actor.signedInUser != nil else { throw APIError.unauthorized }
        let parameters = try await APIParameters.read(request, context: context)
        _ = try RunnerFilter(parameters)
        return try Page(items: [RunnerEntity](), total: 0, request: try PageRequest(parameters)).response(for: request, baseURL: baseURL)
    }

    @Sendable func all(_ request: Request, context: AppRequestContext) async throws -> Response {
        try authorizer.authorizeInstanceAdministration(context.actor)
        return try await listed(request, context: context)
    }

    /// The runners a project's jobs may run on (Maintainers): every instance runner, as a project with shared runners on sees them.
    @Sendable func projectRunners(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try await authorizer.project(try context.parameters.require("id"), .adminProject, actor: context.actor)
        return try await listed(request, context: context)
    }

    /// Every runner that passes the request's filters, one page of them.
    private func listed(_ request: Request, context: AppRequestContext) async throws -> Response {
        let parameters = try await APIParameters.read(request, context: context)
        let filter = try RunnerFilter(parameters)
        let pageRequest = try PageRequest(parameters)
        let now = Date()
        let runners = try await store.runners.list().filter { filter.admits($0, now: now) }
        let items = runners.dropFirst(pageRequest.offset).prefix(pageRequest.perPage).map { RunnerEntity($0, now: now) }
        return try Page(items: Array(items), total: runners.count, request: pageRequest).response(for: request, baseURL: baseURL)
    }

    /// `GET /runners/:id/jobs`: what the runner took, newest first (`sort=asc` for oldest), filtered by `status`.
    @Sendable func jobs(_ request: Request, context: AppRequestContext) async throws -> Response {
        let runner = try await administeredRunner(context)
        let parameters = try await APIParameters.read(request, context: context)
        var statuses: [JobStatus] = []
        if let status = try parameters.string("status") {
            guard let parsed = JobStatus(rawValue: status) else { throw APIError(.badRequest, error: "status does not have a valid value") }
            statuses = [parsed]
        }
        if let orderBy = try parameters.string("order_by"), orderBy != "id" { throw APIError(.badRequest, error: "order_by does not have a valid value") }
        let sort = try parameters.string("sort") ?? "desc"
        guard sort == "asc" || sort == "desc" else { throw APIError(.badRequest, error: "sort does not have a valid value") }
        let page = try await store.jobs.jobs(
            runnerID: runner.id, filter: JobFilter(statuses: statuses, includeRetried: true), oldestFirst: sort == "asc", page: try PageRequest(parameters))
        var builder = JobEntities(store: store, repositories: repositories, baseURL: baseURL)
        var projects: [Int64: Project] = [:]
        var entities: [JobEntity] = []
        for job in page.items {
            if projects[job.projectID] == nil { projects[job.projectID] = try await store.projects.find(id: job.projectID) }
            guard let project = projects[job.projectID], let entity = try await builder.entity(job, project: project) else { continue }
            entities.append(entity)
        }
        return try Page(items: entities, total: page.total, request: page.request).response(for: request, baseURL: baseURL)
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let runner = try await administeredRunner(context)
        return try JSON.response(RunnerDetails(runner, now: Date()))
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> Response {
        let runner = try await administeredRunner(context)
        let parameters = try await APIParameters.read(request, context: context)
        var changes = RunnerChanges(
            description: try parameters.string("description"), tags: try parameters.stringList("tag_list"),
            runUntagged: try parameters.bool("run_untagged"), locked: try parameters.bool("locked"), active: nil)
        // `paused` replaced `active` (GitLab 14.8); both are accepted, and saying both at odds is refused.
        let paused = try parameters.bool("paused"), active = try parameters.bool("active")
        if let paused, let active, paused == active { throw APIError(.badRequest, error: "active, paused are mutually exclusive") }
        changes.active = paused.map { !$0 } ?? active
        if let tags = changes.tags {
            changes.tags = try Self.tags(tags)
        }
        if let description = changes.description, description.count > 1024 {
            throw APIError.validation(["description": ["is too long (maximum is 1024 characters)"]])
        }
        guard changes.description != nil || changes.tags != nil || changes.runUntagged != nil || changes.locked != nil || changes.active != nil else {
            throw APIError(.badRequest, error: "description, active, paused, tag_list, run_untagged, locked, access_level, maximum_timeout, maintenance_note are missing, at least one parameter must be provided")
        }
        // GitLab refuses a runner that could take no job at all; checked before anything is written, so a refused
        // request changes nothing.
        if (changes.tags ?? runner.tags).isEmpty && !(changes.runUntagged ?? runner.runUntagged) {
            throw APIError.validation(["tags_list": ["can not be empty when runner is not allowed to pick untagged jobs"]])
        }
        let updated = try await store.runners.update(id: runner.id, changes)
        return try JSON.response(RunnerDetails(updated, now: Date()))
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        let runner = try await administeredRunner(context)
        if runner.embedded {
            throw APIError(.forbidden, message: "403 Forbidden - the embedded runner belongs to the server; start it with --runners 0 instead")
        }
        try await store.runners.delete(id: runner.id)
        return Response(status: .noContent)
    }

    /// The runner of the path, for an administrator; 404 when there is none (after the check, so a non-administrator
    /// learns nothing of which ids exist).
    private func administeredRunner(_ context: AppRequestContext) async throws -> Runner {
        try authorizer.authorizeInstanceAdministration(context.actor)
        guard let id = context.parameters.get("runner_id", as: Int64.self), let runner = try await store.runners.find(id: id) else {
            throw APIError.notFound("Runner")
        }
        return runner
    }

    /// Tags as GitLab takes them: trimmed, blanks dropped, each at most 255 characters with no control character.
    static func tags(_ tags: [String]) throws -> [String] {
        let cleaned = tags.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for tag in cleaned where tag.count > 255 || tag.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw APIError.validation(["tag_list": ["\(tag.prefix(40)) is not a valid tag"]])
        }
        return Array(Set(cleaned)).sorted()
    }
}

/// GitLab's runner status: online when it asked for a job in the last two hours, stale after a week of silence (or never
/// contacted for a week since it was made), never_contacted before its first request, offline otherwise.
enum RunnerStatus: String {
    case online, offline, stale, neverContacted = "never_contacted"

    init(_ runner: Runner, now: Date) {
        let week: TimeInterval = 7 * 24 * 3600
        guard let contacted = runner.contactedAt else {
            self = now.timeIntervalSince(runner.createdAt) > week ? .stale : .neverContacted
            return
        }
        let silence = now.timeIntervalSince(contacted)
        self = silence <= 2 * 3600 ? .online : silence > week ? .stale : .offline
    }
}

/// The filters of `GET /runners[/all]`: `type`, `status`, `paused`, `tag_list`, `version_prefix` (and the older `scope`).
struct RunnerFilter {
    var type: String?
    var status: RunnerStatus?
    var paused: Bool?
    var tags: [String] = []
    var versionPrefix: String?

    init(_ parameters: APIParameters) throws {
        if let type = try parameters.string("type") {
            guard ["instance_type", "group_type", "project_type"].contains(type) else { throw APIError(.badRequest, error: "type does not have a valid value") }
            self.type = type
        }
        for name in ["status", "scope"] {
            guard let value = try parameters.string(name) else { continue }
            switch value {
            case "active": paused = false
            case "paused": paused = true
            default:
                guard let status = RunnerStatus(rawValue: value) else { throw APIError(.badRequest, error: "\(name) does not have a valid value") }
                self.status = status
            }
        }
        if let paused = try parameters.bool("paused") { self.paused = paused }
        tags = try parameters.stringList("tag_list").map(RunnersAPIController.tags) ?? []
        versionPrefix = try parameters.string("version_prefix")
    }

    func admits(_ runner: Runner, now: Date) -> Bool {
        if let type, type != "instance_type" { return false }
        if let status, RunnerStatus(runner, now: now) != status { return false }
        if let paused, paused == runner.active { return false }
        if !tags.allSatisfy(runner.tags.contains) { return false }
        if let versionPrefix, !runner.version.hasPrefix(versionPrefix) { return false }
        return true
    }
}
