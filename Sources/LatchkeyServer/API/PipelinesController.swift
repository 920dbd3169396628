import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// `/projects/:id/pipelines` and `/projects/:id/pipeline`.
struct PipelinesController {
    let environment: ServerEnvironment
    let creator: PipelineCreator

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("projects/:id/pipelines", use: list)
        routes.get("projects/:id/pipelines/latest", use: latest)
        routes.get("projects/:id/pipelines/:pipeline_id", use: show)
        routes.post("projects/:id/pipeline", use: create)
        routes.post("projects/:id/pipelines/:pipeline_id/cancel", use: cancel)
        routes.post("projects/:id/pipelines/:pipeline_id/retry", use: retry)
        routes.delete("projects/:id/pipelines/:pipeline_id", use: delete)
        routes.get("projects/:id/pipelines/:pipeline_id/variables", use: variables)
        routes.get("projects/:id/pipelines/:pipeline_id/bridges", use: bridges)
        return routes
    }

    private var baseURL: String { environment.settings.baseURL }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .readPipeline, actor: context.actor)
        let parameters = try await APIParameters.read(request, context: context)
        var filter = PipelineFilter(
            ref: try parameters.string("ref"), sha: try parameters.string("sha"), status: try parameters.enumeration("status", PipelineStatus.self),
            source: try parameters.enumeration("source", PipelineSource.self))
        if let order = try parameters.string("order_by") {
            guard ["id", "status", "ref", "updated_at", "user_id"].contains(order) else { throw APIError(.badRequest, error: "order_by does not have a valid value") }
            filter.orderBy = order
        }
        if let sort = try parameters.string("sort") {
            guard ["asc", "desc"].contains(sort) else { throw APIError(.badRequest, error: "sort does not have a valid value") }
            filter.ascending = sort == "asc"
        }
        let page = try await environment.store.pipelines.list(projectID: facts.project.id, filter: filter, page: PageRequest(parameters))
        var users = UserCache(store: environment.store)
        let entities = try await page.items.asyncMap { PipelineEntity($0, projectPath: facts.project.fullPath, user: try await users.user($0.userID), baseURL: baseURL) }
        return try Page(items: entities, total: page.total, request: page.request).response(for: request, baseURL: baseURL)
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .readPipeline, actor: context.actor)
        guard let id = context.parameters.get("pipeline_id", as: Int64.self), let pipeline = try await environment.store.pipelines.find(id: id),
            pipeline.projectID == facts.project.id
        else { throw APIError.notFound("Pipeline") }
        return try await respond(pipeline, project: facts.project)
    }

    /// The project's pipeline named in the path, for `ability`; on a protected ref, cancel and retry need the rights to run it.
    private func pipeline(_ context: AppRequestContext, _ ability: ProjectAbility) async throws -> (Pipeline, ProjectAccessFacts) {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), ability, actor: context.actor)
        guard let id = context.parameters.get("pipeline_id", as: Int64.self), let pipeline = try await environment.store.pipelines.find(id: id),
            pipeline.projectID == facts.project.id
        else { throw APIError.notFound("Pipeline") }
        if ability.isGuardedByRefProtection {
            try await environment.authorizer.authorize(context.actor, ability, facts, ref: pipeline.ref, isTag: pipeline.isTag)
        }
        return (pipeline, facts)
    }

    /// The variables the pipeline was created with (API, trigger, schedule). GitLab's `read_pipeline_variable` is for those who may
    /// update the pipeline; here that includes the ref's protection, since such values are often secrets.
    @Sendable func variables(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (pipeline, _) = try await pipeline(context, .updatePipeline)
        struct VariableEntity: Encodable {
            var variableType = "env_var"
            var key: String
            var value: String
            var raw: Bool
        }
        return try JSON.response(pipeline.variables.map { VariableEntity(key: $0.key, value: $0.value, raw: $0.raw) })
    }

    /// GitLab answers 200 with the pipeline, whether or not anything was left to cancel.
    @Sendable func cancel(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (pipeline, facts) = try await pipeline(context, .updatePipeline)
        try await environment.store.jobs.cancel(pipelineID: pipeline.id)
        return try await respond(try await environment.store.pipelines.find(id: pipeline.id) ?? pipeline, project: facts.project)
    }

    /// Retries the failed and canceled jobs as the caller; 201 with the pipeline, as GitLab.
    @Sendable func retry(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (pipeline, facts) = try await pipeline(context, .updatePipeline)
        guard let user = context.actor.user else { throw APIError.forbidden }
        if !(try await environment.store.jobs.retryFailed(pipelineID: pipeline.id, userID: user.id)).isEmpty { await creator.queue.notify() }
        return try await respond(try await environment.store.pipelines.find(id: pipeline.id) ?? pipeline, project: facts.project, status: .created)
    }

    /// Owners delete a pipeline with its jobs, traces and artifacts; its running jobs' tokens die with their rows. 204.
    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (pipeline, _) = try await pipeline(context, .destroyPipeline)
        let files = try await environment.store.pipelines.deleteReturningFiles(id: pipeline.id)
        for jobID in files.jobIDs {
            environment.traces.remove(jobID: jobID)
            environment.traceMaskingRules.forget(jobID: jobID)
        }
        for path in files.artifactPaths { environment.artifacts.remove(path) }
        return Response(status: .noContent)
    }

    @Sendable func latest(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .readPipeline, actor: context.actor)
        let ref = QueryString(request).get("ref") ?? facts.project.defaultBranch
        guard let pipeline = try await environment.store.pipelines.latest(projectID: facts.project.id, ref: ref) else { throw APIError.notFound("Pipeline") }
        return try await respond(pipeline, project: facts.project)
    }

    private func respond(_ pipeline: Pipeline, project: Project, status: HTTPResponse.Status = .ok) async throws -> Response {
        var users = UserCache(store: environment.store)
        let user = try await users.user(pipeline.userID)
        return try JSON.response(PipelineEntity(pipeline, projectPath: project.fullPath, user: user, baseURL: baseURL), status: status)
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .createPipeline, actor: context.actor)
        let parameters = try await APIParameters.read(request, context: context)
        let ref = try parameters.requireString("ref")
        let variables = try parameters.variables().map { CIVariable(key: $0.key, value: $0.value) }
        guard variables.allSatisfy({ CIVariableName.isValid($0.key) }) else { throw APIError.validation(["base": ["Variables key can contain only letters, digits and '_'."]]) }
        do {
            try await environment.authorizer.authorize(context.actor, .createPipeline, facts, ref: ref)
        } catch is AccessDenied {
            // Ci::CreatePipelineService's Validate::Abilities: a 400 with the pipeline's error, not a 403.
            throw APIError.validation(["base": ["Insufficient permissions for protected ref"]])
        }
        do {
            let pipeline = try await creator.create(project: facts.project, ref: ref, source: .api, user: context.actor.user, variables: variables, persistInvalid: false)
            return try await respond(pipeline, project: facts.project, status: .created)
        } catch PipelineCreator.Failure.unknownRef {
            throw APIError.validation(["base": ["Reference not found"]])
        } catch PipelineCreator.Failure.ambiguousRef {
            throw APIError.validation(["base": ["Ref is ambiguous"]])
        } catch PipelineCreator.Failure.missingConfiguration {
            throw APIError.validation(["base": ["Missing CI config file"]])
        } catch PipelineCreator.Failure.invalidConfiguration(let messages) {
            throw APIError.validation(["base": messages])
        }
    }
}

/// GitLab's rule for variable keys.
enum CIVariableName {
    static func isValid(_ key: String) -> Bool {
        !key.isEmpty && key.count <= 255 && key.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) && $0.isASCII || $0 == "_" }
    }
}

/// Loads each user once per request.
struct UserCache {
    private var users: [Int64: User?] = [:]
    private let store: Store

    init(store: Store) { self.store = store }

    mutating func user(_ id: Int64?) async throws -> User? {
        guard let id else { return nil }
        if let cached = users[id] { return cached }
        let user = try await store.users.find(id: id)
        users[id] = user
        return user
    }
}
