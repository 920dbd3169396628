import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// Repository reads: files and branches.
struct RepositoryController {
    let environment: ServerEnvironment

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("projects/:id/repository/files/:file_path/raw", use: rawFile)
        routes.get("projects/:id/repository/files/:file_path", use: file)
        routes.get("projects/:id/repository/branches", use: branches)
        routes.get("projects/:id/repository/branches/:branch", use: branch)
        return routes
    }

    private var baseURL: String { environment.settings.baseURL }

    /// The file's bytes at `ref` (the default branch when absent).
    private func read(_ request: Request, _ context: AppRequestContext) async throws -> (project: Project, path: String, sha: String, data: Data) {
        let facts = try await environment.authorizedProject(try context.parameters.require("id"), .downloadCode, actor: context.actor)
        let rawPath = try context.parameters.require("file_path")
        let path = rawPath.removingPercentEncoding ?? rawPath
        guard !path.isEmpty, !path.hasPrefix("/"), !path.split(separator: "/").contains("..") else { throw APIError.invalid("file_path") }
        let ref = request.uri.queryParameters.get("ref") ?? facts.project.defaultBranch
        guard let sha = await environment.repositories.resolve(projectID: facts.project.id, ref: ref) else { throw APIError.notFound("File") }
        guard let data = await environment.repositories.file(projectID: facts.project.id, sha: sha, path: path) else { throw APIError.notFound("File") }
        return (facts.project, path, sha, data)
    }

    @Sendable func rawFile(_ request: Request, context: AppRequestContext) async throws -> Response {
        let file = try await read(request, context)
        var headers: HTTPFields = [.contentType: "text/plain; charset=utf-8"]
        headers[HTTPField.Name("X-Gitlab-File-Path")!] = file.path
        headers[HTTPField.Name("X-Gitlab-Commit-Id")!] = file.sha
        headers[.contentDisposition] = "inline; filename=\"\((file.path as NSString).lastPathComponent)\""
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: file.data)))
    }

    @Sendable func file(_ request: Request, context: AppRequestContext) async throws -> Response {
        let file = try await read(request, context)
        struct FileEntity: Encodable {
            var fileName: String
            var filePath: String
            var size: Int
            var encoding = "base64"
            var content: String
            var ref: String
            var commitId: String
            var lastCommitId: String
        }
        let ref = request.uri.queryParameters.get("ref") ?? file.project.defaultBranch
        return try JSON.response(
            FileEntity(fileName: (file.path as NSString).lastPathComponent, filePath: file.path, size: file.data.count, content: file.data.base64EncodedString(),
                       ref: ref, commitId: file.sha, lastCommitId: file.sha))
    }

    @Sendable func branches(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizedProject(try context.parameters.require("id"), .downloadCode, actor: context.actor)
        let parameters = try await APIParameters.read(request, context: context)
        var branches = try await environment.repositories.branches(projectID: facts.project.id)
        if let search = try parameters.string("search"), !search.isEmpty { branches = branches.filter { $0.name.contains(search) } }
        let pageRequest = try PageRequest(parameters)
        let slice = Array(branches.dropFirst(pageRequest.offset).prefix(pageRequest.perPage))
        let entities = await slice.asyncMap { await entity($0.name, sha: $0.sha, facts: facts, actor: context.actor) }
        return try Page(items: entities, total: branches.count, request: pageRequest).response(for: request, baseURL: baseURL)
    }

    @Sendable func branch(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizedProject(try context.parameters.require("id"), .downloadCode, actor: context.actor)
        let raw = try context.parameters.require("branch")
        let name = raw.removingPercentEncoding ?? raw
        guard let found = try await environment.repositories.branches(projectID: facts.project.id).first(where: { $0.name == name }) else {
            throw APIError.notFound("Branch")
        }
        return try JSON.response(await entity(found.name, sha: found.sha, facts: facts, actor: context.actor))
    }

    private func entity(_ name: String, sha: String, facts: ProjectAccessFacts, actor: Actor) async -> BranchEntity {
        let commit = await environment.repositories.commit(projectID: facts.project.id, sha: sha)
        let canPush = AccessPolicy.decide(actor, .pushCode, on: facts).isAllowed
        return BranchEntity(
            name: name, commit: BranchEntity.Commit(commit, sha: sha), merged: false, protected: false, default: name == facts.project.defaultBranch,
            developersCanPush: true, developersCanMerge: true, canPush: canPush,
            webUrl: "\(baseURL)/\(facts.project.fullPath)/-/tree/\(name)")
    }
}

/// GitLab's `Branch` entity.
struct BranchEntity: Encodable, Sendable {
    struct Commit: Encodable, Sendable {
        var id: String
        var shortId: String
        var title: String
        var message: String
        var authorName: String
        var authorEmail: String
        var authoredDate: String
        var committerName: String
        var committerEmail: String
        var committedDate: String
        var createdAt: String
        var parentIds: [String]

        init(_ commit: GitCommit?, sha: String) {
            id = sha
            shortId = String(sha.prefix(8))
            title = commit?.title ?? ""
            message = commit?.message ?? ""
            authorName = commit?.authorName ?? ""
            authorEmail = commit?.authorEmail ?? ""
            authoredDate = commit?.authoredDate ?? ""
            committerName = commit?.committerName ?? ""
            committerEmail = commit?.committerEmail ?? ""
            committedDate = commit?.committedDate ?? ""
            createdAt = commit?.committedDate ?? ""
            parentIds = commit?.parentIDs ?? []
        }
    }

    var name: String
    var commit: Commit
    var merged: Bool
    var protected: Bool
    var `default`: Bool
    var developersCanPush: Bool
    var developersCanMerge: Bool
    var canPush: Bool
    var webUrl: String
}
