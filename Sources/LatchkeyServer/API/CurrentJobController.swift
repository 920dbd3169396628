import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// `GET /job`: the job a job token belongs to.
struct CurrentJobController {
    let environment: ServerEnvironment

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("job", use: show)
        return routes
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard case .job(let actor) = context.actor else { throw APIError.notFound("Job") }
        guard let pipeline = try await environment.store.pipelines.find(id: actor.job.pipelineID) else { throw APIError.notFound("Job") }
        return try JSON.response(JobEntity(actor.job, pipeline: pipeline, project: actor.project, user: actor.user, baseURL: environment.settings.baseURL))
    }
}
