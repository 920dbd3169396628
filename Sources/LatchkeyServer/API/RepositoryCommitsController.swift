import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// Writing to a repository through the API: `POST /projects/:id/repository/commits` with `actions`, and the files API
/// (`POST/PUT/DELETE /projects/:id/repository/files/:file_path`), which makes one-action commits. User routes, as in
/// GitLab's job-token table: a job token is no credential here.
///
/// Each write is a commit in a private index moved onto the branch by compare and swap, checked like a push: Developer
/// (`push_code`), the branch's protection rules, and leak detection (a live token in the content is revoked and the commit
/// refused). The commit starts the branch's pipeline as the caller, as a push does.
struct RepositoryCommitsController {
    let environment: ServerEnvironment
    let creator: PipelineCreator

    /// The body read at most: the content of every action, JSON-escaped (GitLab takes files of megabytes).
    static let bodyLimit = 24 << 20

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.post("projects/:id/repository/commits", use: commits)
        routes.post("projects/:id/repository/files/:file_path", use: createFile)
        routes.put("projects/:id/repository/files/:file_path", use: updateFile)
        routes.delete("projects/:id/repository/files/:file_path", use: deleteFile)
        return routes
    }

    private struct FileAnswer: Encodable {
        var filePath: String
        var branch: String
    }

    @Sendable func commits(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .downloadCode, actor: context.actor)
        let parameters = try await APIParameters.read(request, context: context, limit: Self.bodyLimit)
        let branch = try parameters.requireString("branch")
        let message = try parameters.requireString("commit_message")
        let actions: [CommitAction]
        do { actions = try CommitAction.parse(parameters["actions"]) } catch { throw APIError(.badRequest, error: error.message) }
        if try parameters.bool("force") == true { throw APIError(.badRequest, error: "force is not supported by Latchkey: a commit never rewrites a branch") }
        let start = try parameters.string("start_sha").map(Start.sha) ?? parameters.string("start_branch").map(Start.branch)
        let sha = try await write(actions, branch: branch, start: start, message: message, parameters: parameters, facts: facts, context: context)
        guard let commit = await environment.repositories.commit(projectID: facts.project.id, sha: sha) else { throw APIError.notFound("Commit") }
        var entity = CommitDetailEntity(
            RepositoryCommitEntity(commit, webURL: "\(environment.settings.baseURL)/\(facts.project.fullPath)/-/commit/\(sha)"), projectID: facts.project.id)
        if try parameters.bool("stats") ?? true {
            let stats = await environment.repositories.commitStats(projectID: facts.project.id, sha: sha)
            entity.stats = .init(additions: stats.additions, deletions: stats.deletions, total: stats.additions + stats.deletions)
        }
        return try JSON.response(entity, status: .created)
    }

    @Sendable func createFile(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await file(.create, request, context: context)
    }

    @Sendable func updateFile(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await file(.update, request, context: context)
    }

    @Sendable func deleteFile(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await file(.delete, request, context: context)
    }

    private func file(_ kind: CommitAction.Kind, _ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .downloadCode, actor: context.actor)
        let raw = try context.parameters.require("file_path")
        let parameters = try await APIParameters.read(request, context: context, limit: Self.bodyLimit)
        let branch = try parameters.requireString("branch")
        let message = try parameters.requireString("commit_message")
        var action: CommitAction
        do {
            action = CommitAction(kind: kind, filePath: try CommitAction.writablePath(raw.removingPercentEncoding ?? raw))
            if kind != .delete {
                guard let content = try parameters.string("content") else { throw APIError.missing("content") }
                action.content = try CommitAction.content(content, encoding: try parameters.string("encoding"))
                guard action.content!.count <= CommitAction.maximumContentBytes else { throw APIError.contentTooLarge }
            }
        } catch let error as CommitAction.Invalid {
            throw APIError(.badRequest, error: error.message)
        }
        action.executable = try parameters.bool("execute_filemode")
        action.lastCommitID = try parameters.string("last_commit_id")
        let start = try parameters.string("start_branch").map(Start.branch)
        _ = try await write([action], branch: branch, start: start, message: message, parameters: parameters, facts: facts, context: context)
        if kind == .delete { return Response(status: .noContent) }
        return try JSON.response(FileAnswer(filePath: action.filePath, branch: branch), status: kind == .create ? .created : .ok)
    }

    /// Where a new branch starts.
    private enum Start {
        case branch(String)
        case sha(String)
    }

    /// Authorizes, checks the branch's rules and the content for live tokens, commits and starts the pipeline; the new sha.
    private func write(
        _ actions: [CommitAction], branch: String, start: Start?, message: String, parameters: APIParameters, facts: ProjectAccessFacts,
        context: AppRequestContext
    ) async throws -> String {
        try await environment.authorizer.authorize(context.actor, .pushCode, facts)
        guard let user = context.actor.user else { throw APIError.unauthorized }
        let project = facts.project
        let repositories = environment.repositories
        guard await BranchesController.isValidBranchName(branch) else { throw APIError(.badRequest, message: "Branch name is invalid") }
        let head = await repositories.resolve(projectID: project.id, ref: "refs/heads/\(branch)")
        var base = head
        // A start point names where a new branch begins; on an existing branch GitLab refuses it (without `force`, which
        // Latchkey never does) rather than ignore it.
        if head != nil, let start {
            if case .branch(let name) = start, name == branch {} else { throw APIError(.badRequest, message: CommitFailure.branchExists.message) }
        }
        if head == nil {
            switch start {
            case .branch(let name)?:
                guard Git.isSafeRef(name), let sha = await repositories.resolve(projectID: project.id, ref: "refs/heads/\(name)") else {
                    throw APIError(.badRequest, message: CommitFailure.startNotFound(name).message)
                }
                base = sha
            case .sha(let sha)?:
                guard Git.isSafeRef(sha), sha.count >= 7, let resolved = await repositories.resolve(projectID: project.id, ref: sha) else {
                    throw APIError(.badRequest, message: CommitFailure.startNotFound(sha).message)
                }
                base = resolved
            case nil:
                // A first commit makes the branch of an empty repository; otherwise GitLab asks for a branch to start from.
                guard await repositories.isEmpty(projectID: project.id) else { throw APIError(.badRequest, message: CommitFailure.notOnBranch.message) }
            }
        }
        let rules = try await environment.store.protectedBranches.rules(projectID: project.id)
        if let refusal = AccessPolicy.checkBranchChange(context.actor, head == nil ? .create : .update(forced: false), branch: branch, origin: .api, rules: rules, on: facts) {
            throw APIError(.forbidden, message: refusal.message)
        }
        let authorName = try parameters.string("author_name").flatMap { $0.isEmpty ? nil : $0 } ?? user.name
        let authorEmail = try parameters.string("author_email").flatMap { $0.isEmpty ? nil : $0 } ?? user.email
        let author: CommitIdentity
        do {
            author = try CommitIdentity.checked(name: authorName, email: authorEmail)
        } catch {
            throw APIError(.badRequest, message: error.message)
        }
        // Everything that lands in the repository is scanned: a token in a file name, an author or the branch name is as
        // readable to every cloner as one in a file.
        var scanner = TokenCandidateScanner()
        let names = [message, branch, author.name, author.email] + actions.flatMap { [$0.filePath] + ($0.previousPath.map { [$0] } ?? []) }
        for text in names.map { [UInt8]($0.utf8) } + actions.compactMap(\.content) {
            scanner.scan(text)
            scanner.endDocument()
        }
        try await LeakedTokenGuard(environment: environment).refuseLeaks(scanner, surface: .commit, project: project, authorID: user.id)
        // A commit runs git as a clone does, so it takes one of the credential's git slots.
        let slot = try await environment.gitSlots.acquire(for: context.actor, context: context, what: "commits")
        let sha: String
        do {
            sha = try await repositories.commit(
                projectID: project.id, branch: branch, base: base, branchExists: head != nil, actions: actions, message: message, author: author)
        } catch let failure as CommitFailure {
            throw APIError(.badRequest, message: failure.message)
        }
        withExtendedLifetime(slot) {}
        let recorded = await environment.recordRepositoryMetadata(project)
        if let user = context.actor.signedInUser {
            await creator.startForAPIWrite(project: recorded, ref: branch, user: user)
        }
        return sha
    }
}
