import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// `/projects/:id/jobs` and a pipeline's jobs: read, play, cancel, retry.
struct JobsController {
    let environment: ServerEnvironment
    let queue: JobQueue

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("projects/:id/pipelines/:pipeline_id/jobs", use: pipelineJobs)
        routes.get("projects/:id/jobs", use: list)
        routes.get("projects/:id/jobs/:job_id", use: show)
        routes.post("projects/:id/jobs/:job_id/play", use: play)
        routes.post("projects/:id/jobs/:job_id/cancel", use: cancel)
        routes.post("projects/:id/jobs/:job_id/retry", use: retry)
        routes.get("projects/:id/jobs/:job_id/trace", use: trace)
        return routes
    }

    private var baseURL: String { environment.settings.baseURL }

    private func scopes(_ parameters: APIParameters) throws -> [JobStatus] {
        let values = try parameters.stringList("scope") ?? []
        return try values.map {
            guard let status = JobStatus(rawValue: String($0)) else { throw APIError(.badRequest, error: "scope does not have a valid value") }
            return status
        }
    }

    @Sendable func pipelineJobs(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .readJob, actor: context.actor)
        let parameters = try await APIParameters.read(request, context: context)
        guard let id = context.parameters.get("pipeline_id", as: Int64.self), let pipeline = try await environment.store.pipelines.find(id: id),
            pipeline.projectID == facts.project.id
        else { throw APIError.notFound("Pipeline") }
        let filter = JobFilter(statuses: try scopes(parameters), includeRetried: try parameters.bool("include_retried") ?? false, bridges: false)
        let page = try await environment.store.jobs.jobs(pipelineID: pipeline.id, filter: filter, page: PageRequest(parameters))
        return try await respond(page, project: facts.project, request: request)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .readJob, actor: context.actor)
        let parameters = try await APIParameters.read(request, context: context)
        let page = try await environment.store.jobs.jobs(projectID: facts.project.id, filter: JobFilter(statuses: try scopes(parameters), includeRetried: true, bridges: false), page: PageRequest(parameters))
        return try await respond(page, project: facts.project, request: request)
    }

    private func respond(_ page: Page<Job>, project: Project, request: Request) async throws -> Response {
        var builder = JobEntities(store: environment.store, repositories: environment.repositories, baseURL: baseURL)
        var entities: [JobEntity] = []
        for job in page.items {
            if let entity = try await builder.entity(job, project: project) { entities.append(entity) }
        }
        return try Page(items: entities, total: page.total, request: page.request).response(for: request, baseURL: baseURL)
    }

    private func job(_ context: AppRequestContext, _ ability: ProjectAbility) async throws -> (Job, ProjectAccessFacts) {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), ability, actor: context.actor)
        // The jobs API is GitLab's builds: a bridge (`trigger:`) is not one of them.
        guard let id = context.parameters.get("job_id", as: Int64.self), let job = try await environment.store.jobs.find(id: id), job.projectID == facts.project.id,
            !job.definition.isBridge
        else { throw APIError.notFound("Job") }
        // GitLab's Ci::BuildPolicy: no update_build (play, retry, cancel) on a protected ref the user may not run pipelines on.
        if ability.isGuardedByRefProtection, let pipeline = try await environment.store.pipelines.find(id: job.pipelineID) {
            try await environment.authorizer.authorize(context.actor, ability, facts, ref: pipeline.ref, isTag: pipeline.isTag)
        }
        return (job, facts)
    }

    private func entity(_ job: Job, _ project: Project, status: HTTPResponse.Status = .ok) async throws -> Response {
        var builder = JobEntities(store: environment.store, repositories: environment.repositories, baseURL: baseURL)
        guard let entity = try await builder.entity(job, project: project) else { throw APIError.notFound("Pipeline") }
        return try JSON.response(entity, status: status)
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (job, facts) = try await job(context, .readJob)
        return try await entity(job, facts.project)
    }

    @Sendable func play(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (job, facts) = try await job(context, .updateJob)
        guard let user = context.actor.user, let played = try await environment.store.jobs.play(jobID: job.id, userID: user.id) else {
            throw APIError(.badRequest, message: "400 Bad request - Unplayable Job")
        }
        await queue.notify()
        return try await entity(played, facts.project, status: .ok)
    }

    @Sendable func cancel(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (job, facts) = try await job(context, .updateJob)
        let canceled = try await environment.store.jobs.cancel(jobID: job.id) ?? job
        return try await entity(canceled, facts.project, status: .created)
    }

    @Sendable func retry(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (job, facts) = try await job(context, .updateJob)
        guard let user = context.actor.user, let retried = try await environment.store.jobs.retry(jobID: job.id, userID: user.id) else {
            throw APIError(.forbidden, message: "403 Forbidden - Job is not retryable")
        }
        await queue.notify()
        return try await entity(retried, facts.project, status: .created)
    }

    /// The stored (masked) trace, also while the job runs.
    @Sendable func trace(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (job, _) = try await job(context, .readJob)
        return Response(status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: environment.traces.read(jobID: job.id))))
    }
}
