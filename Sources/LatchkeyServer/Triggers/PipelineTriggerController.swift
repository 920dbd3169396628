import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// `POST /projects/:id/trigger/pipeline` with a job token or a pipeline trigger token, and the trigger tokens' management.
struct PipelineTriggerController {
    let environment: ServerEnvironment
    let creator: PipelineCreator

    /// The trigger itself; its `token` parameter is the credential, so it sits with the job-token routes.
    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.post("projects/:id/trigger/pipeline", use: trigger)
        return routes
    }

    /// Managing trigger tokens needs a signed-in Maintainer; a job token has no part in it.
    var managementEndpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("projects/:id/triggers", use: list)
        routes.post("projects/:id/triggers", use: create)
        routes.get("projects/:id/triggers/:trigger_id", use: show)
        routes.delete("projects/:id/triggers/:trigger_id", use: delete)
        return routes
    }

    private var baseURL: String { environment.settings.baseURL }

    // GitLab answers every refusal of the trigger API like this, so a token never learns whether a project exists.
    static let refused = APIError(.notFound, message: "404 Not Found")

    @Sendable func trigger(_ request: Request, context: AppRequestContext) async throws -> Response {
        let parameters = try await APIParameters.read(request, context: context)
        var missing: [String] = []
        if (try parameters.string("ref") ?? "").isEmpty { missing.append("ref") }
        if (try parameters.string("token") ?? "").isEmpty { missing.append("token") }
        guard missing.isEmpty else { throw APIError(.badRequest, error: missing.map { "\($0) is missing" }.joined(separator: ", ")) }
        let ref = try parameters.requireString("ref")
        let token = try parameters.requireString("token")
        let variables: [CIVariable]
        do {
            variables = try parameters.variables().map { CIVariable(key: $0.key, value: $0.value) }
        } catch {
            throw APIError(.badRequest, message: "variables needs to be a map of key-valued strings")
        }
        guard variables.allSatisfy({ CIVariableName.isValid($0.key) }) else { throw APIError.validation(["base": ["Variables key can contain only letters, digits and '_'."]]) }

        let rawID = try context.parameters.require("id")
        let id = rawID.removingPercentEncoding ?? rawID
        let found: Project? = if let number = Int64(id) { try await environment.store.projects.find(id: number) } else { try await environment.store.projects.find(fullPath: id) }
        guard let project = found else { throw Self.refused }

        if TokenKind.of(token) == .jobToken {
            guard let job = try await Authenticator(environment: environment).acceptedJob(token) else { throw Self.refused }
            let facts = try await environment.authorizer.facts(for: project, actor: .job(job))
            do {
                try await environment.authorizer.authorize(.job(job), .createPipeline, facts)
                // As a trigger token's owner: the job's user must be allowed to run pipelines on this ref, which may be protected
                // (a bare name, so it must pass both the branch and the tag rules of that name).
                try await environment.authorizer.authorize(.job(job), .createPipeline, facts, ref: ref)
            } catch is APIError {
                throw Self.refused
            } catch is AccessDenied {
                throw Self.refused
            }
            // A pipeline started by a job's token is a multi-project child of that job: it runs as the job's user.
            return try await create(project: project, ref: ref, source: .pipeline, user: job.user, variables: variables, upstreamJobID: job.job.id)
        }

        guard let (trigger, owner) = try await Authenticator(environment: environment).trigger(token: token, projectID: project.id) else { throw Self.refused }
        // A trigger runs as its owner, with the owner's rights as of now (a protected ref included).
        switch try await environment.authorizer.mayCreatePipeline(as: owner, on: project, ref: ref) {
        case .allowed: break
        case .denied(.notFound): throw Self.refused
        case .denied: throw APIError.validation(["base": ["Insufficient permissions to create a new pipeline"]])
        }
        try await environment.store.pipelineTriggers.touch(id: trigger.id)
        return try await create(project: project, ref: ref, source: .trigger, user: owner, variables: variables, upstreamJobID: nil)
    }

    private func create(project: Project, ref: String, source: PipelineSource, user: User, variables: [CIVariable], upstreamJobID: Int64?) async throws -> Response {
        let pipeline: Pipeline
        do {
            pipeline = try await creator.create(project: project, ref: ref, source: source, user: user, variables: variables, upstreamJobID: upstreamJobID, persistInvalid: false)
        } catch PipelineCreator.Failure.unknownRef {
            throw APIError.validation(["base": ["Reference not found"]])
        } catch PipelineCreator.Failure.ambiguousRef {
            throw APIError.validation(["base": ["Ref is ambiguous"]])
        } catch PipelineCreator.Failure.filtered(let messages) {
            throw APIError.validation(["base": messages])
        } catch PipelineCreator.Failure.missingConfiguration {
            throw APIError.validation(["base": ["Missing CI config file"]])
        } catch PipelineCreator.Failure.invalidConfiguration(let messages) {
            throw APIError.validation(["base": messages])
        }
        return try JSON.response(PipelineEntity(pipeline, projectPath: project.fullPath, user: user, baseURL: baseURL), status: .created)
    }

    // MARK: Trigger tokens

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .adminProject, actor: context.actor)
        let parameters = try await APIParameters.read(request, context: context)
        let page = try await environment.store.pipelineTriggers.list(projectID: facts.project.id, page: PageRequest(parameters))
        var users = UserCache(store: environment.store)
        var entities: [PipelineTriggerEntity] = []
        for trigger in page.items { entities.append(PipelineTriggerEntity(trigger, token: nil, owner: try await users.user(trigger.ownerID), baseURL: baseURL)) }
        return try Page(items: entities, total: page.total, request: page.request).response(for: request, baseURL: baseURL)
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (trigger, _) = try await find(context)
        var users = UserCache(store: environment.store)
        return try JSON.response(PipelineTriggerEntity(trigger, token: nil, owner: try await users.user(trigger.ownerID), baseURL: baseURL))
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .adminProject, actor: context.actor)
        let parameters = try await APIParameters.read(request, context: context)
        guard parameters.has("description") else { throw APIError.missing("description") }
        let description = try parameters.string("description") ?? ""
        guard let owner = context.actor.signedInUser else { throw APIError.forbidden }
        let token = SecretToken.mint(.pipelineTrigger)
        let trigger = try await environment.store.pipelineTriggers.create(
            projectID: facts.project.id, ownerID: owner.id, description: description, tokenDigest: environment.digester.digest(token),
            tokenHint: String(token.value.prefix(TokenKind.pipelineTrigger.prefix.count + 4)))
        // The only time the whole token is shown: we keep its digest, never the token.
        return try JSON.response(PipelineTriggerEntity(trigger, token: token.value, owner: owner, baseURL: baseURL), status: .created)
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (trigger, _) = try await find(context)
        try await environment.store.pipelineTriggers.delete(id: trigger.id)
        return JSON.empty()
    }

    private func find(_ context: AppRequestContext) async throws -> (PipelineTrigger, Project) {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .adminProject, actor: context.actor)
        guard let id = context.parameters.get("trigger_id", as: Int64.self) else { throw APIError.invalid("trigger_id") }
        guard let trigger = try await environment.store.pipelineTriggers.find(id: id, projectID: facts.project.id) else { throw APIError.notFound("Trigger") }
        return (trigger, facts.project)
    }
}

/// GitLab's `Trigger` entity; `token` is whole only in the answer that creates it, a short hint afterwards.
struct PipelineTriggerEntity: Encodable, Sendable {
    var id: Int64
    var token: String
    var description: String
    var createdAt: Date
    var updatedAt: Date
    @Nullable var lastUsed: Date?
    @Nullable var owner: UserBasicEntity?
    @Nullable var expiresAt: Date?

    init(_ trigger: PipelineTrigger, token: String?, owner: User?, baseURL: String) {
        id = trigger.id
        self.token = token ?? trigger.tokenHint
        description = trigger.description
        createdAt = trigger.createdAt
        updatedAt = trigger.updatedAt
        lastUsed = trigger.lastUsedAt
        self.owner = owner.map { UserBasicEntity($0, baseURL: baseURL) }
        expiresAt = nil
    }
}
