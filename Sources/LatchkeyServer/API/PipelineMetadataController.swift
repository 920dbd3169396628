import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// `PUT /projects/:id/pipelines/:pipeline_id/metadata`: renames a pipeline (`name`, what `workflow:name` set). In GitLab's
/// job-token table, so a job may name its own pipeline (or one of a project that allowlists it with `admin_pipelines`).
struct PipelineMetadataController {
    let environment: ServerEnvironment

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.put("projects/:id/pipelines/:pipeline_id/metadata", use: update)
        return routes
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> Response {
        let authorizer = environment.authorizer, store = environment.store
        let facts = try await authorizer.project(try context.parameters.require("id"), .readPipeline, actor: context.actor)
        guard let id = context.parameters.get("pipeline_id", as: Int64.self), let pipeline = try await store.pipelines.find(id: id),
            pipeline.projectID == facts.project.id
        else { throw APIError.notFound("Pipeline") }
        // GitLab's update_pipeline: Developers, and on a protected ref only those who may run pipelines there.
        try await authorizer.authorize(context.actor, .updatePipeline, facts, ref: pipeline.ref, isTag: pipeline.isTag)
        let parameters = try await APIParameters.read(request, context: context)
        let name = try parameters.requireString("name")
        // Characters as GitLab (Ruby) counts them, code points: a grapheme count would let a few "characters" of stacked
        // combining marks run to megabytes.
        guard name.unicodeScalars.count <= Pipeline.maximumNameLength else {
            throw APIError.validation(["name": ["is too long (maximum is \(Pipeline.maximumNameLength) characters)"]])
        }
        // Shown in pages, lists and terminals (`glab`, the CLI): no control character may rewrite what they show.
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw APIError.validation(["name": ["can not contain control characters"]])
        }
        // Shown to everyone who can see the pipeline: a live token pasted into it dies, and the name is refused.
        try await LeakedTokenGuard(environment: environment).refuseLeaks(in: [name], surface: .pipelineName, project: facts.project, authorID: context.actor.user?.id)
        guard let renamed = try await store.pipelines.setName(pipelineID: pipeline.id, name: name) else { throw APIError.notFound("Pipeline") }
        var users = UserCache(store: store)
        return try JSON.response(
            PipelineEntity(renamed, projectPath: facts.project.fullPath, user: try await users.user(renamed.userID), baseURL: environment.settings.baseURL))
    }
}
