import Foundation
import Hummingbird
import LatchkeyCore

/// `POST /user/runners`: a user creates a runner and gets its `glrt-` authentication token (GitLab 15.10+), which
/// `gitlab-runner register --token glrt-…` then uses instead of a registration token.
struct UserRunnersController {
    let environment: ServerEnvironment

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.post("user/runners", use: create)
        return routes
    }

    private struct CreatedRunner: Encodable {
        var id: Int64
        var token: String
        @Nullable var tokenExpiresAt: String?
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let parameters = try await APIParameters.read(request, context: context)
        guard let type = try parameters.string("runner_type") else { throw APIError.missing("runner_type") }
        guard ["instance_type", "group_type", "project_type"].contains(type) else { throw APIError(.badRequest, error: "runner_type does not have a valid value") }
        // Latchkey's runners are the instance's: group and project runners do not exist here (yet), so say so rather than make one.
        guard type == "instance_type" else {
            throw APIError(.badRequest, error: "runner_type \(type) is not supported: Latchkey has instance runners only (runner_type=instance_type)")
        }
        try environment.authorizer.authorizeInstanceAdministration(context.actor)
        let tags = try parameters.stringList("tag_list") ?? []
        let created = try await RunnerCreation.create(
            in: environment, description: try parameters.string("description") ?? "", tags: tags,
            runUntagged: try parameters.bool("run_untagged") ?? tags.isEmpty, locked: try parameters.bool("locked") ?? false, version: "")
        return try JSON.response(CreatedRunner(id: created.runner.id, token: created.token, tokenExpiresAt: nil), status: .created)
    }
}
