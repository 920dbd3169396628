import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// `/projects/:id/deployments`: list, show, record, update and delete, as GitLab's `API::Deployments`. A job's deployment is made
/// with its pipeline and follows the job's status; the API records deployments made elsewhere. Reading needs read_deployment
/// (Reporter), recording and updating Developer, deleting Maintainer; a job token reaches them within its allowlist
/// (`read_deployments`, `admin_deployments`) and its `deployments` permission.
struct DeploymentsController {
    let authorizer: Authorizer
    let store: Store
    let repositories: RepositoryStore
    let baseURL: String

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("projects/:id/deployments", use: list)
        routes.post("projects/:id/deployments", use: create)
        routes.get("projects/:id/deployments/:deployment_id", use: show)
        routes.put("projects/:id/deployments/:deployment_id", use: update)
        routes.delete("projects/:id/deployments/:deployment_id", use: delete)
        return routes
    }

    static let orders = ["id", "iid", "created_at", "updated_at", "finished_at", "ref"]

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await authorizer.project(try context.parameters.require("id"), .readDeployment, actor: context.actor)
        let parameters = try await APIParameters.read(request, context: context)
        var filter = DeploymentFilter()
        filter.environment = try parameters.string("environment")
        filter.status = try parameters.enumeration("status", DeploymentStatus.self)
        filter.updatedAfter = try Self.timestamp(parameters, "updated_after")
        filter.updatedBefore = try Self.timestamp(parameters, "updated_before")
        if let order = try parameters.string("order_by") {
            guard Self.orders.contains(order) else { throw APIError(.badRequest, error: "order_by does not have a valid value") }
            filter.orderBy = order
        }
        switch try parameters.string("sort") ?? "asc" {
        case "asc": filter.ascending = true
        case "desc": filter.ascending = false
        default: throw APIError(.badRequest, error: "sort does not have a valid value")
        }
        let page = try await store.environments.deployments(projectID: facts.project.id, filter: filter, page: try PageRequest(parameters))
        let environments = Dictionary(uniqueKeysWithValues: try await store.environments.environments(projectID: facts.project.id).map { ($0.id, $0) })
        var entities: [DeploymentEntity] = []
        for deployment in page.items {
            guard let environment = environments[deployment.environmentID] else { continue }
            entities.append(try await Self.entity(deployment, environment: environment, project: facts.project, store: store, baseURL: baseURL))
        }
        return try Page(items: entities, total: page.total, request: page.request).response(for: request, baseURL: baseURL)
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (facts, deployment, environment) = try await find(context, .readDeployment)
        return try JSON.response(try await Self.entity(deployment, environment: environment, project: facts.project, store: store, baseURL: baseURL))
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await authorizer.project(try context.parameters.require("id"), .createDeployment, actor: context.actor)
        let parameters = try await APIParameters.read(request, context: context)
        let name = try parameters.requireString("environment")
        let sha = try parameters.requireString("sha")
        let ref = try parameters.requireString("ref")
        let isTag = try parameters.bool("tag") ?? false
        guard let status = try parameters.enumeration("status", DeploymentStatus.self) else { throw APIError(.badRequest, error: "status is missing") }
        guard DeploymentStatus.settable.contains(status) else { throw APIError(.badRequest, error: "status does not have a valid value") }
        guard let user = context.actor.user else { throw APIError.forbidden }
        // A new environment is made on the way, which takes the environment ability too (GitLab's `authorize!(:create_environment)`).
        try await authorizer.authorize(context.actor, .adminEnvironment, facts)
        guard Git.isSafeRef(ref), await repositories.resolve(projectID: facts.project.id, ref: isTag ? "refs/tags/\(ref)" : "refs/heads/\(ref)") != nil else {
            throw APIError.validation(["ref": ["The branch or tag does not exist"]])
        }
        guard (7...64).contains(sha.count), sha.allSatisfy(\.isHexDigit) else { throw APIError.validation(["sha": ["is invalid"]]) }
        guard EnvironmentName.isValid(name) else { throw APIError.validation(["name": [EnvironmentName.invalidMessage]]) }
        let deployment = try await store.environments.record(
            projectID: facts.project.id, NewDeployment(environment: name, ref: ref, sha: sha.lowercased(), isTag: isTag, status: status, userID: user.id))
        guard let environment = try await store.environments.environment(id: deployment.environmentID, projectID: facts.project.id) else {
            throw APIError.notFound("Environment")
        }
        let entity = try await Self.entity(deployment, environment: environment, project: facts.project, store: store, baseURL: baseURL)
        return try JSON.response(entity, status: .created)
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (facts, deployment, environment) = try await find(context, .createDeployment)
        let parameters = try await APIParameters.read(request, context: context)
        guard let status = try parameters.enumeration("status", DeploymentStatus.self) else { throw APIError(.badRequest, error: "status is missing") }
        guard DeploymentStatus.settable.contains(status) else { throw APIError(.badRequest, error: "status does not have a valid value") }
        guard deployment.jobID == nil else {
            throw APIError(.forbidden, message: "403 Forbidden - Deployments created using GitLab CI can not be updated using the API")
        }
        guard let updated = try await store.environments.setStatus(id: deployment.id, projectID: facts.project.id, status: status) else {
            throw APIError.notFound("Deployment")
        }
        return try JSON.response(try await Self.entity(updated, environment: environment, project: facts.project, store: store, baseURL: baseURL))
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (facts, deployment, environment) = try await find(context, .destroyDeployment)
        if deployment.status == .running { throw APIError(.badRequest, message: "Cannot destroy running deployment") }
        if try await store.environments.lastDeployment(environmentID: environment.id)?.id == deployment.id {
            throw APIError(.badRequest, message: "Deployment currently deployed to environment")
        }
        try await store.environments.deleteDeployment(id: deployment.id, projectID: facts.project.id)
        return Response(status: .noContent)
    }

    private func find(_ context: AppRequestContext, _ ability: ProjectAbility) async throws -> (ProjectAccessFacts, Deployment, DeploymentEnvironment) {
        let facts = try await authorizer.project(try context.parameters.require("id"), ability, actor: context.actor)
        guard let id = Int64(try context.parameters.require("deployment_id")), id > 0,
            let deployment = try await store.environments.deployment(id: id, projectID: facts.project.id),
            let environment = try await store.environments.environment(id: deployment.environmentID, projectID: facts.project.id)
        else { throw APIError.notFound("Deployment") }
        return (facts, deployment, environment)
    }

    private static func timestamp(_ parameters: APIParameters, _ name: String) throws -> Date? {
        guard let text = try parameters.string(name) else { return nil }
        guard let date = TimestampParameter.parse(text) else { throw APIError.invalid(name) }
        return date
    }

    /// The deployment as GitLab shows it, with its user and the job that made it (if the job still exists).
    static func entity(_ deployment: Deployment, environment: DeploymentEnvironment, project: Project, store: Store, baseURL: String) async throws -> DeploymentEntity {
        let user = try await deployment.userID.asyncFlatMap { try await store.users.find(id: $0) }
        var deployable: JobEntity?
        if let jobID = deployment.jobID, let job = try await store.jobs.find(id: jobID), let pipeline = try await store.pipelines.find(id: job.pipelineID) {
            let jobUser = try await job.userID.asyncFlatMap { try await store.users.find(id: $0) }
            deployable = JobEntity(job, pipeline: pipeline, project: project, user: jobUser, baseURL: baseURL)
        }
        return DeploymentEntity(deployment, environment: environment, user: user, deployable: deployable, baseURL: baseURL)
    }
}
