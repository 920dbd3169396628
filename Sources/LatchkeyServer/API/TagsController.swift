import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// Tag creation and deletion (`POST/DELETE /projects/:id/repository/tags`): user routes, so a job token is no credential here.
struct TagsController {
    let environment: ServerEnvironment
    let creator: PipelineCreator

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.post("projects/:id/repository/tags", use: create)
        routes.delete("projects/:id/repository/tags/**", use: delete)
        return routes
    }

    // GitLab's order: read_code, then the parameters, then admin_tag (push_code), then the tag checks its hooks make (a 400 with
    // their words, as `Tags::CreateService` answers a refused pre-receive).
    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .downloadCode, actor: context.actor)
        let parameters = try await APIParameters.read(request, context: context)
        let name = try parameters.requireString("tag_name")
        let ref = try parameters.requireString("ref")
        let message = try parameters.string("message")
        try await environment.authorizer.authorize(context.actor, .pushCode, facts)
        let project = facts.project
        let rules = try await environment.store.protectedTags.rules(projectID: project.id)
        if let refusal = AccessPolicy.checkTagChange(context.actor, .create, tag: name, origin: .api, rules: rules, on: facts) {
            throw APIError(.badRequest, message: refusal.message)
        }
        let tag: GitTag
        do {
            tag = try await environment.repositories.createTag(projectID: project.id, name: name, ref: ref, message: message, tagger: context.actor.user)
        } catch let error as TagCreationError {
            switch error {
            case .invalidName: throw APIError(.badRequest, message: "Tag name invalid")
            case .exists: throw APIError(.badRequest, message: "Tag \(name) already exists")
            case .unknownRef: throw APIError(.badRequest, message: "Target \(ref) is invalid")
            }
        }
        // A tag made through the API starts its pipeline as the caller, as a push of it would: the tag's, even when a branch
        // shares its name.
        if let user = context.actor.signedInUser {
            do {
                _ = try await creator.create(project: project, ref: name, kind: .tag, source: .push, user: user)
            } catch PipelineCreator.Failure.missingConfiguration {
            } catch PipelineCreator.Failure.filtered {
            } catch {
                environment.logger.error("pipeline creation for a new tag failed", metadata: ["project": "\(project.fullPath)", "error.type": "\(type(of: error))"])
            }
        }
        let base = environment.settings.baseURL
        let commit = await environment.repositories.commit(projectID: project.id, sha: tag.commitSHA)
        let entity = TagEntity(
            name: tag.name, message: tag.message, target: tag.target,
            commit: RepositoryCommitEntity(commit, sha: tag.commitSHA, webURL: "\(base)/\(project.fullPath)/-/commit/\(tag.commitSHA)"),
            release: nil, protected: rules.protects(tag.name), createdAt: tag.createdAt)
        return try JSON.response(entity, status: .created)
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .downloadCode, actor: context.actor)
        let name = RepositoryController.catchAll(context)
        try await environment.authorizer.authorize(context.actor, .pushCode, facts)
        guard Git.isSafeRef(name), let tag = try await environment.repositories.tag(projectID: facts.project.id, name: name) else {
            throw APIError(.notFound, message: "No such tag")
        }
        let rules = try await environment.store.protectedTags.rules(projectID: facts.project.id)
        if let refusal = AccessPolicy.checkTagChange(context.actor, .delete, tag: tag.name, origin: .api, rules: rules, on: facts) {
            throw APIError(.forbidden, message: refusal.message)
        }
        guard await environment.repositories.deleteTag(projectID: facts.project.id, name: tag.name, at: tag.target) else {
            throw APIError(.badRequest, message: "Failed to remove tag")
        }
        return Response(status: .noContent)
    }
}

extension RepositoryStore {
    /// Deletes `refs/tags/<name>` if it still points at `target` (the tag object, or the commit of a lightweight tag).
    func deleteTag(projectID: Int64, name: String, at target: String) async -> Bool {
        (try? await Git.run(["-C", path(projectID: projectID).path, "update-ref", "-d", "refs/tags/\(name)", target])) != nil
    }
}
