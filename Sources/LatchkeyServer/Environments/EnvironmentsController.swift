import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// `/projects/:id/environments`: list, show, create, update, stop and delete, as GitLab's `API::Environments`. Reading needs
/// read_environment (Reporter), the rest Developer; a job token reaches them within its allowlist (`read_environments`,
/// `admin_environments`) and its `deployments` permission.
struct EnvironmentsController {
    let authorizer: Authorizer
    let store: Store
    let baseURL: String

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("projects/:id/environments", use: list)
        routes.post("projects/:id/environments", use: create)
        routes.get("projects/:id/environments/:environment_id", use: show)
        routes.put("projects/:id/environments/:environment_id", use: update)
        routes.delete("projects/:id/environments/:environment_id", use: delete)
        routes.post("projects/:id/environments/:environment_id/stop", use: stop)
        return routes
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await authorizer.project(try context.parameters.require("id"), .readEnvironment, actor: context.actor)
        let parameters = try await APIParameters.read(request, context: context)
        let name = try parameters.string("name"), search = try parameters.string("search")
        if name != nil, search != nil { throw APIError(.badRequest, error: "name, search are mutually exclusive") }
        if let search, search.count < 3 { throw APIError(.badRequest, message: "400 Bad request - Search query is less than 3 characters") }
        let filter = EnvironmentFilter(name: name, search: search, states: try parameters.enumeration("states", EnvironmentState.self))
        let found = try await store.environments.environments(projectID: facts.project.id, filter: filter)
        let page = try PageRequest(parameters)
        let slice = found.dropFirst(page.offset).prefix(page.perPage).map { EnvironmentEntity($0) }
        return try Page(items: Array(slice), total: found.count, request: page).response(for: request, baseURL: baseURL)
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (facts, environment) = try await find(context, .readEnvironment)
        let last = try await store.environments.lastDeployment(environmentID: environment.id)
        var entity: DeploymentEntity?
        if let last { entity = try await DeploymentsController.entity(last, environment: environment, project: facts.project, store: store, baseURL: baseURL) }
        return try JSON.response(EnvironmentEntity(environment, lastDeployment: entity))
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await authorizer.project(try context.parameters.require("id"), .adminEnvironment, actor: context.actor)
        let parameters = try await APIParameters.read(request, context: context)
        let name = try parameters.requireString("name")
        guard EnvironmentName.isValid(name) else { throw APIError.validation(["name": [EnvironmentName.invalidMessage]]) }
        let url = try Self.externalURL(parameters)
        let tier = try parameters.enumeration("tier", EnvironmentTier.self)
        do {
            let created = try await store.environments.create(projectID: facts.project.id, name: name, externalURL: url ?? nil, tier: tier)
            return try JSON.response(EnvironmentEntity(created), status: .created)
        } catch StoreError.duplicate {
            throw APIError.validation(["name": ["has already been taken"], "slug": ["has already been taken"]])
        }
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (facts, environment) = try await find(context, .adminEnvironment)
        let parameters = try await APIParameters.read(request, context: context)
        // GitLab 16 stopped renaming environments (the name is what variables, deployments and scopes match on).
        if parameters.has("name") { throw APIError(.badRequest, error: "name cannot be changed") }
        let url = try Self.externalURL(parameters)
        let tier = try parameters.enumeration("tier", EnvironmentTier.self)
        guard let updated = try await store.environments.update(id: environment.id, projectID: facts.project.id, externalURL: url, tier: tier) else {
            throw APIError.notFound("Environment")
        }
        return try JSON.response(EnvironmentEntity(updated))
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (facts, environment) = try await find(context, .adminEnvironment)
        // GitLab's `destroy_environment` holds only for stopped environments: a live one is stopped first, by its stop job.
        guard environment.state == .stopped else { throw APIError(.forbidden, message: "403 Forbidden - Environment must be stopped before it can be deleted") }
        try await store.environments.delete(id: environment.id, projectID: facts.project.id)
        return Response(status: .noContent)
    }

    /// Runs the environment's waiting `on_stop` job as the caller (it goes `stopping`, then `stopped` when the job succeeds); with
    /// `force`, or with no stop job to run, the environment is stopped at once. As GitLab's `stop_environment`, a caller who may
    /// not run the stop job (a protected ref) may not stop the environment at all, forced or not.
    @Sendable func stop(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (facts, environment) = try await find(context, .adminEnvironment)
        let parameters = try await APIParameters.read(request, context: context)
        let force = try parameters.bool("force") ?? false
        var played = false
        if let stopJobID = try await store.environments.waitingStopJob(environmentID: environment.id), let job = try await store.jobs.find(id: stopJobID),
            let pipeline = try await store.pipelines.find(id: job.pipelineID)
        {
            try await authorizer.authorize(context.actor, .updateJob, facts)
            try await authorizer.authorize(context.actor, .updateJob, facts, ref: pipeline.ref, isTag: pipeline.isTag)
            if !force, let user = context.actor.user { played = try await store.jobs.play(jobID: job.id, userID: user.id) != nil }
        }
        if !played { try await store.environments.markStopped(id: environment.id, projectID: facts.project.id) }
        guard let now = try await store.environments.environment(id: environment.id, projectID: facts.project.id) else { throw APIError.notFound("Environment") }
        return try JSON.response(EnvironmentEntity(now))
    }

    private func find(_ context: AppRequestContext, _ ability: ProjectAbility) async throws -> (ProjectAccessFacts, DeploymentEnvironment) {
        let facts = try await authorizer.project(try context.parameters.require("id"), ability, actor: context.actor)
        guard let id = Int64(try context.parameters.require("environment_id")), id > 0,
            let environment = try await store.environments.environment(id: id, projectID: facts.project.id)
        else { throw APIError.notFound("Environment") }
        return (facts, environment)
    }

    /// `external_url`: absent (nil), cleared (`.some(nil)`), or an http(s) URL of at most 255 characters.
    private static func externalURL(_ parameters: APIParameters) throws -> String?? {
        guard parameters.has("external_url") else { return nil }
        guard let url = try parameters.string("external_url"), !url.isEmpty else { return .some(nil) }
        guard url.count <= 255, EnvironmentName.isWebURL(url) else { throw APIError.validation(["external_url": ["is blocked: Only allowed schemes are http, https"]]) }
        return .some(url)
    }
}
