import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// Repository reads: files, branches, tags and commits.
struct RepositoryController {
    let environment: ServerEnvironment

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("projects/:id/repository/files/:file_path/raw", use: rawFile)
        routes.get("projects/:id/repository/files/:file_path", use: file)
        routes.get("projects/:id/repository/branches", use: branches)
        routes.get("projects/:id/repository/branches/:branch", use: branch)
        routes.get("projects/:id/repository/tags", use: tags)
        routes.get("projects/:id/repository/tags/**", use: tag)
        routes.get("projects/:id/repository/commits/**", use: commit)
        return routes
    }

    private var baseURL: String { environment.settings.baseURL }

    /// The file's bytes at `ref` (the default branch when absent).
    private func read(_ request: Request, _ context: AppRequestContext) async throws -> (project: Project, path: String, sha: String, data: Data) {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .downloadCode, actor: context.actor)
        let rawPath = try context.parameters.require("file_path")
        let path = rawPath.removingPercentEncoding ?? rawPath
        guard !path.isEmpty, !path.hasPrefix("/"), !path.split(separator: "/").contains("..") else { throw APIError.invalid("file_path") }
        let ref = QueryString(request).get("ref") ?? facts.project.defaultBranch
        guard let sha = await environment.repositories.resolve(projectID: facts.project.id, ref: ref) else { throw APIError.notFound("File") }
        guard let data = await environment.repositories.file(projectID: facts.project.id, sha: sha, path: path) else { throw APIError.notFound("File") }
        return (facts.project, path, sha, data)
    }

    @Sendable func rawFile(_ request: Request, context: AppRequestContext) async throws -> Response {
        let file = try await read(request, context)
        var headers: HTTPFields = [.contentType: "text/plain; charset=utf-8"]
        try await metadata(file, request).headers.forEach { headers[HTTPField.Name($0.0)!] = $0.1 }
        headers[.contentDisposition] = "inline; filename=\"\((file.path as NSString).lastPathComponent)\""
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: file.data)))
    }

    /// GitLab's `blob_data`: the file's blob id, mode, digest and last commit, for the entity and the `X-Gitlab-*` headers.
    private func metadata(_ file: (project: Project, path: String, sha: String, data: Data), _ request: Request) async throws -> RepositoryFileMetadata {
        let ref = QueryString(request).get("ref") ?? file.project.defaultBranch
        guard let metadata = await environment.repositories.fileMetadata(projectID: file.project.id, sha: file.sha, path: file.path, ref: ref, data: file.data)
        else { throw APIError.notFound("File") }
        return metadata
    }

    @Sendable func file(_ request: Request, context: AppRequestContext) async throws -> Response {
        let file = try await read(request, context)
        struct FileEntity: Encodable {
            var metadata: RepositoryFileMetadata
            var content: String
            func encode(to encoder: any Encoder) throws {
                try metadata.encode(to: encoder)
                var container = encoder.container(keyedBy: Key.self)
                try container.encode(content, forKey: .content)
            }
            enum Key: String, CodingKey { case content }
        }
        let metadata = try await metadata(file, request)
        var response = try JSON.response(FileEntity(metadata: metadata, content: file.data.base64EncodedString()))
        metadata.headers.forEach { response.headers[HTTPField.Name($0.0)!] = $0.1 }
        return response
    }

    @Sendable func branches(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .downloadCode, actor: context.actor)
        let parameters = try await APIParameters.read(request, context: context)
        var branches = try await environment.repositories.branches(projectID: facts.project.id)
        if let search = try parameters.string("search"), !search.isEmpty { branches = branches.filter { $0.name.contains(search) } }
        let pageRequest = try PageRequest(parameters)
        let slice = Array(branches.dropFirst(pageRequest.offset).prefix(pageRequest.perPage))
        let rules = try await environment.store.protectedBranches.rules(projectID: facts.project.id)
        let entities = await slice.asyncMap { await environment.branchEntity($0.name, sha: $0.sha, facts: facts, actor: context.actor, rules: rules) }
        return try Page(items: entities, total: branches.count, request: pageRequest).response(for: request, baseURL: baseURL)
    }

    @Sendable func branch(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .downloadCode, actor: context.actor)
        let raw = try context.parameters.require("branch")
        let name = raw.removingPercentEncoding ?? raw
        guard let found = try await environment.repositories.branches(projectID: facts.project.id).first(where: { $0.name == name }) else {
            throw APIError.notFound("Branch")
        }
        let rules = try await environment.store.protectedBranches.rules(projectID: facts.project.id)
        return try JSON.response(await environment.branchEntity(found.name, sha: found.sha, facts: facts, actor: context.actor, rules: rules))
    }

    @Sendable func tags(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .downloadCode, actor: context.actor)
        let parameters = try await APIParameters.read(request, context: context)
        var tags = try await environment.repositories.tags(projectID: facts.project.id)
        if let search = try parameters.string("search"), !search.isEmpty {
            // GitLab: `^term` matches a prefix, `term$` a suffix, anything else a substring.
            if search.hasPrefix("^") {
                tags = tags.filter { $0.name.hasPrefix(search.dropFirst()) }
            } else if search.hasSuffix("$") {
                tags = tags.filter { $0.name.hasSuffix(search.dropLast()) }
            } else {
                tags = tags.filter { $0.name.contains(search) }
            }
        }
        switch try parameters.string("order_by") ?? "updated" {
        case "name": tags.sort { $0.name < $1.name }
        case "updated", "version": break
        default: throw APIError(.badRequest, error: "order_by does not have a valid value")
        }
        switch try parameters.string("sort") ?? "desc" {
        case "asc": tags.reverse()
        case "desc": break
        default: throw APIError(.badRequest, error: "sort does not have a valid value")
        }
        let pageRequest = try PageRequest(parameters)
        let slice = Array(tags.dropFirst(pageRequest.offset).prefix(pageRequest.perPage))
        let releases = try await environment.store.releases.releases(projectID: facts.project.id, tagNames: slice.map(\.name))
        let protectedTags = try await environment.store.protectedTags.rules(projectID: facts.project.id)
        var entities: [TagEntity] = []
        for tag in slice {
            entities.append(await tagEntity(tag, release: releases[tag.name], project: facts.project, isProtected: protectedTags.protects(tag.name)))
        }
        return try Page(items: entities, total: tags.count, request: pageRequest).response(for: request, baseURL: baseURL)
    }

    @Sendable func tag(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .downloadCode, actor: context.actor)
        let name = Self.catchAll(context)
        guard !name.isEmpty, let tag = try await environment.repositories.tag(projectID: facts.project.id, name: name) else { throw APIError.notFound("Tag") }
        let release = try await environment.store.releases.find(projectID: facts.project.id, tagName: tag.name)
        let isProtected = try await environment.store.protectedTags.rules(projectID: facts.project.id).protects(tag.name)
        return try JSON.response(await tagEntity(tag, release: release, project: facts.project, isProtected: isProtected))
    }

    @Sendable func commit(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .downloadCode, actor: context.actor)
        let ref = Self.catchAll(context)
        guard !ref.isEmpty, let sha = await environment.repositories.resolve(projectID: facts.project.id, ref: ref),
            let commit = await environment.repositories.commit(projectID: facts.project.id, sha: sha)
        else { throw APIError.notFound("Commit") }
        var entity = CommitDetailEntity(RepositoryCommitEntity(commit, webURL: "\(baseURL)/\(facts.project.fullPath)/-/commit/\(sha)"), projectID: facts.project.id)
        let stats = await environment.repositories.commitStats(projectID: facts.project.id, sha: sha)
        entity.stats = .init(additions: stats.additions, deletions: stats.deletions, total: stats.additions + stats.deletions)
        if let pipeline = try await environment.store.pipelines.list(projectID: facts.project.id, filter: PipelineFilter(sha: sha), page: PageRequest(page: 1, perPage: 1)).items.first {
            entity.lastPipeline = PipelineBasicEntity(pipeline, projectPath: facts.project.fullPath, baseURL: baseURL)
            entity.status = pipeline.status.rawValue
        }
        return try JSON.response(entity)
    }

    /// The rest of the path after a `**` route, decoded: names with `/` arrive raw or `%2F`-encoded.
    static func catchAll(_ context: AppRequestContext) -> String {
        let raw = context.parameters.get(String(Parameters.recursiveCaptureKey)) ?? ""
        return raw.removingPercentEncoding ?? raw
    }

    private func tagEntity(_ tag: GitTag, release: Release?, project: Project, isProtected: Bool) async -> TagEntity {
        let commit = await environment.repositories.commit(projectID: project.id, sha: tag.commitSHA)
        return TagEntity(
            name: tag.name, message: tag.message, target: tag.target,
            commit: RepositoryCommitEntity(commit, sha: tag.commitSHA, webURL: "\(baseURL)/\(project.fullPath)/-/commit/\(tag.commitSHA)"),
            release: release.map { TagEntity.ReleaseRef(tagName: $0.tagName, description: $0.description) }, protected: isProtected,
            createdAt: tag.createdAt)
    }
}

/// GitLab's `Branch` entity.
struct BranchEntity: Encodable, Sendable {
    var name: String
    // GitLab embeds the same commit entity the repository API shows.
    var commit: RepositoryCommitEntity
    var merged: Bool
    var protected: Bool
    var `default`: Bool
    var developersCanPush: Bool
    var developersCanMerge: Bool
    var canPush: Bool
    var webUrl: String
}

/// GitLab's `Commit` entity, as the repository API shows it.
struct RepositoryCommitEntity: Encodable, Sendable {
    var id: String
    var shortId: String
    var createdAt: String
    var parentIds: [String]
    var title: String
    var message: String
    var authorName: String
    var authorEmail: String
    var authoredDate: String
    var committerName: String
    var committerEmail: String
    var committedDate: String
    var trailers: [String: String] = [:]
    var extendedTrailers: [String: [String]] = [:]
    var webUrl: String

    init(_ commit: GitCommit?, sha: String, webURL: String) {
        id = sha
        shortId = String(sha.prefix(8))
        createdAt = commit?.committedDate ?? ""
        parentIds = commit?.parentIDs ?? []
        title = commit?.title ?? ""
        message = commit?.message ?? ""
        authorName = commit?.authorName ?? ""
        authorEmail = commit?.authorEmail ?? ""
        authoredDate = commit?.authoredDate ?? ""
        committerName = commit?.committerName ?? ""
        committerEmail = commit?.committerEmail ?? ""
        committedDate = commit?.committedDate ?? ""
        webUrl = webURL
    }

    init(_ commit: GitCommit, webURL: String) { self.init(commit, sha: commit.sha, webURL: webURL) }
}

/// GitLab's `CommitDetail`: the commit with its stats, status and last pipeline.
struct CommitDetailEntity: Encodable, Sendable {
    struct Stats: Encodable, Sendable {
        var additions: Int
        var deletions: Int
        var total: Int
    }

    var commit: RepositoryCommitEntity
    var stats = Stats(additions: 0, deletions: 0, total: 0)
    var status: String?
    var projectId: Int64
    var lastPipeline: PipelineBasicEntity?

    init(_ commit: RepositoryCommitEntity, projectID: Int64) {
        self.commit = commit
        projectId = projectID
    }

    private enum Keys: String, CodingKey { case stats, status, projectId, lastPipeline }

    func encode(to encoder: any Encoder) throws {
        try commit.encode(to: encoder)
        var container = encoder.container(keyedBy: Keys.self)
        try container.encode(stats, forKey: .stats)
        try container.encode(status, forKey: .status)
        try container.encode(projectId, forKey: .projectId)
        try container.encode(lastPipeline, forKey: .lastPipeline)
    }
}

/// GitLab's `Tag` entity.
struct TagEntity: Encodable, Sendable {
    struct ReleaseRef: Encodable, Sendable {
        var tagName: String
        var description: String
    }

    var name: String
    var message: String
    var target: String
    var commit: RepositoryCommitEntity
    @Nullable var release: ReleaseRef?
    var protected: Bool
    @Nullable var createdAt: String?
}
