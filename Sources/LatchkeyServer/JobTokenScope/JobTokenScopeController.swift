import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// `/projects/:id/job_token_scope`: the "Limit access to this project" switch, the allowlists, the authentication log.
struct JobTokenScopeController {
    let environment: ServerEnvironment
    let scope: JobTokenScopeService

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("projects/:id/job_token_scope", use: show)
        routes.patch("projects/:id/job_token_scope", use: update)
        routes.get("projects/:id/job_token_scope/allowlist", use: projectAllowlist)
        routes.post("projects/:id/job_token_scope/allowlist", use: addProject)
        routes.delete("projects/:id/job_token_scope/allowlist/:target_id", use: removeProject)
        routes.get("projects/:id/job_token_scope/groups_allowlist", use: groupAllowlist)
        routes.post("projects/:id/job_token_scope/groups_allowlist", use: addGroup)
        routes.delete("projects/:id/job_token_scope/groups_allowlist/:target_id", use: removeGroup)
        routes.get("projects/:id/job_token_scope/authentication_log", use: authenticationLog)
        routes.post("projects/:id/job_token_scope/autopopulate", use: autopopulate)
        routes.get("projects/:id/audit_events", use: auditEvents)
        return routes
    }

    private var baseURL: String { environment.settings.baseURL }

    private func project(_ context: AppRequestContext, _ ability: ProjectAbility = .adminJobTokenScope) async throws -> Project {
        try await environment.authorizer.project(try context.parameters.require("id"), ability, actor: context.actor).project
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let project = try await project(context)
        // GitLab 18: the instance-wide enforcement shows as `inbound_enabled: true` whatever the project's own switch says.
        let enforced = try await environment.store.settings.value(JobTokenScopeRepository.enforcementSetting) == "true"
        return try JSON.response(["inbound_enabled": project.jobTokenInboundEnabled || enforced, "outbound_enabled": project.jobTokenOutboundEnabled])
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> Response {
        let project = try await project(context)
        let parameters = try await APIParameters.read(request, context: context)
        guard parameters.has("enabled") else { throw APIError.missing("enabled") }
        guard let enabled = try? parameters.bool("enabled") else { throw APIError.invalid("enabled") }
        try await scope.setInbound(enabled, project: project, by: context.actor)
        return JSON.empty()
    }

    @Sendable func projectAllowlist(_ request: Request, context: AppRequestContext) async throws -> Response {
        let project = try await project(context)
        let parameters = try await APIParameters.read(request, context: context)
        // The list always includes the project itself, first.
        let listed = [project] + (try await environment.store.jobTokenScope.entries(project: project.id, direction: .inbound)).compactMap { entry in
            if case .project(let target) = entry.target { return target }
            return nil
        }
        let pageRequest = try PageRequest(parameters)
        let items = Array(listed.dropFirst(pageRequest.offset).prefix(pageRequest.perPage))
        let entities = await items.asyncMap { ProjectEntity($0, baseURL: baseURL, emptyRepo: await environment.repositoryIsEmpty($0)) }
        return try Page(items: entities, total: listed.count, request: pageRequest).response(for: request, baseURL: baseURL)
    }

    @Sendable func groupAllowlist(_ request: Request, context: AppRequestContext) async throws -> Response {
        let project = try await project(context)
        let parameters = try await APIParameters.read(request, context: context)
        let groups = try await environment.store.jobTokenScope.entries(project: project.id, direction: .inbound).compactMap { entry -> Group? in
            if case .group(let group) = entry.target { return group }
            return nil
        }
        let pageRequest = try PageRequest(parameters)
        let items = Array(groups.dropFirst(pageRequest.offset).prefix(pageRequest.perPage)).map { GroupEntity($0, baseURL: baseURL) }
        return try Page(items: items, total: groups.count, request: pageRequest).response(for: request, baseURL: baseURL)
    }

    /// `default_permissions` and `job_token_policies` (our extension of the REST API, as in GitLab's GraphQL).
    private func grant(_ parameters: APIParameters) throws -> AllowlistGrant {
        let policies = try (parameters.stringList("job_token_policies") ?? []).map { name in
            guard let policy = JobTokenPolicy(rawValue: name) else { throw APIError(.badRequest, error: "job_token_policies does not have a valid value") }
            return policy
        }
        let defaultPermissions = try parameters.bool("default_permissions") ?? policies.isEmpty
        return AllowlistGrant(defaultPermissions: defaultPermissions, policies: Set(policies))
    }

    private struct ProjectLink: Encodable {
        var sourceProjectId: Int64
        var targetProjectId: Int64
    }

    private struct GroupLink: Encodable {
        var sourceProjectId: Int64
        var targetGroupId: Int64
    }

    @Sendable func addProject(_ request: Request, context: AppRequestContext) async throws -> Response {
        let project = try await project(context)
        let parameters = try await APIParameters.read(request, context: context)
        guard parameters.has("target_project_id"), let targetID = try parameters.int("target_project_id") else { throw APIError.missing("target_project_id") }
        let target = try await scope.addProject(targetID, to: project, grant: try grant(parameters), by: context.actor)
        return try JSON.response(ProjectLink(sourceProjectId: project.id, targetProjectId: target.id), status: .created)
    }

    @Sendable func removeProject(_ request: Request, context: AppRequestContext) async throws -> Response {
        let project = try await project(context)
        guard let targetID = context.parameters.get("target_id", as: Int64.self) else { throw APIError.invalid("target_project_id") }
        try await scope.removeProject(targetID, from: project, by: context.actor)
        return JSON.empty()
    }

    @Sendable func addGroup(_ request: Request, context: AppRequestContext) async throws -> Response {
        let project = try await project(context)
        let parameters = try await APIParameters.read(request, context: context)
        guard parameters.has("target_group_id"), let groupID = try parameters.int("target_group_id") else { throw APIError.missing("target_group_id") }
        let group = try await scope.addGroup(groupID, to: project, grant: try grant(parameters), by: context.actor)
        return try JSON.response(GroupLink(sourceProjectId: project.id, targetGroupId: group.id), status: .created)
    }

    @Sendable func removeGroup(_ request: Request, context: AppRequestContext) async throws -> Response {
        let project = try await project(context)
        guard let groupID = context.parameters.get("target_id", as: Int64.self) else { throw APIError.invalid("target_group_id") }
        try await scope.removeGroup(groupID, from: project, by: context.actor)
        return JSON.empty()
    }

    private struct AuthorizationEntity: Encodable {
        var originProject: Origin
        var lastAuthorizedAt: Date

        struct Origin: Encodable {
            var id: Int64
            var name: String
            var fullPath: String
            var webUrl: String
        }
    }

    /// JSON, or CSV with `Accept: text/csv` / `?format=csv` (`Origin Project Path`, `Last Authorized At (UTC)`).
    @Sendable func authenticationLog(_ request: Request, context: AppRequestContext) async throws -> Response {
        let project = try await project(context)
        let log = try await environment.store.jobTokenScope.authorizations(accessed: project.id)
        let wantsCSV = request.uri.queryParameters.get("format") == "csv" || (request.headers[.accept]?.contains("text/csv") ?? false)
        if wantsCSV {
            var csv = "Origin Project Path,Last Authorized At (UTC)\n"
            for entry in log { csv += "\(CSV.field(entry.originProject.fullPath)),\(GitLabDate.format(entry.lastAuthorizedAt))\n" }
            var headers: HTTPFields = [.contentType: "text/csv; charset=utf-8"]
            headers[.contentDisposition] = "attachment; filename=\"\(project.path)-job-token-authentication-log.csv\""
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: csv)))
        }
        let parameters = try await APIParameters.read(request, context: context)
        let pageRequest = try PageRequest(parameters)
        let entities = log.map {
            AuthorizationEntity(
                originProject: .init(id: $0.originProject.id, name: $0.originProject.name, fullPath: $0.originProject.fullPath, webUrl: "\(baseURL)/\($0.originProject.fullPath)"),
                lastAuthorizedAt: $0.lastAuthorizedAt)
        }
        return try Page(items: Array(entities.dropFirst(pageRequest.offset).prefix(pageRequest.perPage)), total: entities.count, request: pageRequest)
            .response(for: request, baseURL: baseURL)
    }

    @Sendable func autopopulate(_ request: Request, context: AppRequestContext) async throws -> Response {
        let project = try await project(context)
        let added = try await scope.autopopulate(project, by: context.actor)
        return try JSON.response(["added_projects": added.projects, "added_groups": added.groups], status: .created)
    }

    private struct AuditEventEntity: Encodable {
        var id: Int64
        var authorId: Int64?
        var entityId: Int64
        var entityType: String
        var eventName: String
        var details: [String: String]
        var createdAt: Date
    }

    @Sendable func auditEvents(_ request: Request, context: AppRequestContext) async throws -> Response {
        let project = try await project(context, .readAuditEvents)
        let parameters = try await APIParameters.read(request, context: context)
        let page = try await environment.store.auditEvents.list(entityID: project.id, page: PageRequest(parameters))
        return try page.map {
            AuditEventEntity(id: $0.id, authorId: $0.authorID, entityId: $0.entityID, entityType: $0.entityType, eventName: $0.eventName, details: $0.details, createdAt: $0.createdAt)
        }.response(for: request, baseURL: baseURL)
    }
}

/// CSV quoting.
enum CSV {
    static func field(_ text: String) -> String {
        // A leading =, +, - or @ would run as a formula in a spreadsheet: quote it away.
        var value = text
        if let first = value.first, "=+-@".contains(first) { value = "'" + value }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) || value != text else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
