import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// `POST /job/token/revoke`, the kill switch: a job token dies at once and its job is canceled (beyond GitLab).
///
/// With a job token it ends that job; with a personal access token it ends the job named by `job_id`, for a Maintainer of
/// its project or an administrator. The job's trace says who did it, and the project's audit log records it.
struct JobTokenRevocationController {
    let environment: ServerEnvironment

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.post("job/token/revoke", use: revoke)
        return routes
    }

    private struct Revoked: Encodable {
        var jobId: Int64
        var status: String
    }

    @Sendable func revoke(_ request: Request, context: AppRequestContext) async throws -> Response {
        let job: Job
        switch context.actor {
        case .anonymous:
            throw APIError.unauthorized
        case .job(let actor):
            job = actor.job
        case .user:
            let parameters = try await APIParameters.read(request, context: context)
            guard let id = try parameters.int("job_id") else { throw APIError.missing("job_id") }
            guard let found = try await environment.store.jobs.find(id: Int64(id)) else { throw APIError.notFound("Job") }
            job = found
        }
        guard let project = try await environment.store.projects.find(id: job.projectID) else { throw APIError.notFound("Job") }
        try await environment.authorizer.authorizeJobTokenRevocation(context.actor, jobID: job.id, on: project)
        let who: String =
            switch context.actor {
            case .job: "the job itself"
            default: context.actor.user.map { "@\($0.username)" } ?? "someone"
            }
        guard
            let ended = try await environment.revokeJobToken(
                job, project: project, reason: "this job's token was revoked by \(who) (POST /job/token/revoke)", authorID: context.actor.user?.id,
                details: ["by": who])
        else {
            throw APIError(.conflict, message: "409 Job is not running: its token is already dead")
        }
        return try JSON.response(Revoked(jobId: ended.id, status: ended.status.rawValue))
    }
}
