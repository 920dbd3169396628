import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// Branch creation and deletion (`POST/DELETE /projects/:id/repository/branches`): user routes, so a job token is no credential here.
struct BranchesController {
    let environment: ServerEnvironment
    let creator: PipelineCreator

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.post("projects/:id/repository/branches", use: create)
        routes.delete("projects/:id/repository/branches/:branch", use: delete)
        return routes
    }

    // GitLab's order: find the project and check read_code before the parameters, then push_code.
    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .downloadCode, actor: context.actor)
        let parameters = try await APIParameters.read(request, context: context)
        let name = try parameters.requireString("branch")
        let ref = try parameters.requireString("ref")
        try await environment.authorizer.authorize(context.actor, .pushCode, facts)
        let project = facts.project
        guard await Self.isValidBranchName(name) else { throw APIError(.badRequest, message: "Branch name is invalid") }
        guard await environment.repositories.resolve(projectID: project.id, ref: "refs/heads/\(name)") == nil else {
            throw APIError(.badRequest, message: "Branch already exists")
        }
        guard let sha = await environment.repositories.resolve(projectID: project.id, ref: ref) else {
            throw APIError(.badRequest, message: "Invalid reference name: \(ref)")
        }
        let rules = try await environment.store.protectedBranches.rules(projectID: project.id)
        if let refusal = AccessPolicy.checkBranchChange(context.actor, .create, branch: name, origin: .api, rules: rules, on: facts) {
            throw APIError(.badRequest, message: refusal.message)
        }
        guard await environment.repositories.updateBranch(projectID: project.id, name: name, to: sha, from: nil) else {
            throw APIError(.badRequest, message: "Branch already exists")
        }
        // A branch made through the API starts its pipeline as the caller, as a push of it would.
        if let user = context.actor.signedInUser { await creator.startForAPIWrite(project: project, ref: name, user: user) }
        let entity = await environment.branchEntity(name, sha: sha, facts: facts, actor: context.actor, rules: rules)
        return try JSON.response(entity, status: .created)
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .downloadCode, actor: context.actor)
        let raw = try context.parameters.require("branch")
        let name = raw.removingPercentEncoding ?? raw
        let project = facts.project
        guard Git.isSafeRef(name), let sha = await environment.repositories.resolve(projectID: project.id, ref: "refs/heads/\(name)") else {
            throw APIError.notFound("Branch")
        }
        try await environment.authorizer.authorize(context.actor, .pushCode, facts)
        let rules = try await environment.store.protectedBranches.rules(projectID: project.id)
        if let refusal = AccessPolicy.checkBranchChange(context.actor, .delete, branch: name, origin: .api, rules: rules, on: facts) {
            throw APIError(.badRequest, message: refusal.message)
        }
        guard await environment.repositories.deleteBranch(projectID: project.id, name: name, at: sha) else {
            throw APIError(.badRequest, message: "Failed to remove branch")
        }
        return Response(status: .noContent)
    }

    /// git's branch-name rules (`check-ref-format --branch`), and nothing that could read as an option or a revision expression.
    static func isValidBranchName(_ name: String) async -> Bool {
        guard Git.isSafeRef(name), ProtectedBranch.isValidName(name), !name.contains("*"), name != "HEAD", !name.hasPrefix("refs/") else { return false }
        return (try? await Git.run(["check-ref-format", "refs/heads/\(name)"])) != nil
    }
}

extension RepositoryStore {
    /// Points `refs/heads/<name>` at `sha` if it still is at `old` (nil: if it does not exist yet); false when it moved meanwhile.
    func updateBranch(projectID: Int64, name: String, to sha: String, from old: String?) async -> Bool {
        let zero = String(repeating: "0", count: 40)
        return (try? await Git.run(["-C", path(projectID: projectID).path, "update-ref", "refs/heads/\(name)", sha, old ?? zero])) != nil
    }

    /// Deletes `refs/heads/<name>` if it is still at `sha`.
    func deleteBranch(projectID: Int64, name: String, at sha: String) async -> Bool {
        (try? await Git.run(["-C", path(projectID: projectID).path, "update-ref", "-d", "refs/heads/\(name)", sha])) != nil
    }
}

extension ServerEnvironment {
    /// GitLab's `Branch` entity, with what the project's protected branch rules say about it for this actor.
    func branchEntity(_ name: String, sha: String, facts: ProjectAccessFacts, actor: Actor, rules: ProtectedBranches) async -> BranchEntity {
        let base = settings.baseURL
        let commit = await repositories.commit(projectID: facts.project.id, sha: sha)
        let matching = rules.matching(name)
        let canPush = authorizer.allows(actor, .pushCode, facts)
            && AccessPolicy.checkBranchChange(actor, .update(forced: false), branch: name, origin: .api, rules: rules, on: facts) == nil
        return BranchEntity(
            name: name, commit: RepositoryCommitEntity(commit, sha: sha, webURL: "\(base)/\(facts.project.fullPath)/-/commit/\(sha)"), merged: false,
            protected: !matching.isEmpty, default: name == facts.project.defaultBranch,
            // GitLab's `ProtectedBranch.developers_can?`: a rule covering the branch lets Developers push (merge) there.
            developersCanPush: matching.contains { $0.pushAccessLevel == .developer },
            developersCanMerge: matching.contains { $0.mergeAccessLevel == .developer }, canPush: canPush,
            webUrl: "\(base)/\(facts.project.fullPath)/-/tree/\(name)")
    }
}
