import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// `/projects/:id/releases`: list, show by tag, and create (making the tag from `ref` when it does not exist yet).
struct ReleasesController {
    let environment: ServerEnvironment

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("projects/:id/releases", use: list)
        routes.post("projects/:id/releases", use: create)
        // Tag names may hold `/`; GitLab wants them `%2F`-encoded, and a raw one works too. The asset links live below a release.
        routes.get("projects/:id/releases/**", use: subpath)
        routes.post("projects/:id/releases/**", use: subpath)
        routes.put("projects/:id/releases/**", use: subpath)
        routes.delete("projects/:id/releases/**", use: subpath)
        return routes
    }

    /// A release (`GET`) or its asset links (`ReleaseLinksController`), by the rest of the path.
    @Sendable func subpath(_ request: Request, context: AppRequestContext) async throws -> Response {
        let raw = context.parameters.get(String(Parameters.recursiveCaptureKey)) ?? ""
        let links = ReleaseLinksController(environment: environment)
        switch (request.method, ReleaseLinksController.Target(rawPath: raw)) {
        case (.get, .release(let tagName)?): return try await show(request, context: context, tagName: tagName)
        case (.get, .links(let tagName)?): return try await links.list(request, context: context, tagName: tagName)
        case (.post, .links(let tagName)?): return try await links.create(request, context: context, tagName: tagName)
        case (.get, .link(let tagName, let id)?): return try await links.show(request, context: context, tagName: tagName, linkID: id)
        case (.put, .link(let tagName, let id)?): return try await links.update(request, context: context, tagName: tagName, linkID: id)
        case (.delete, .link(let tagName, let id)?): return try await links.delete(request, context: context, tagName: tagName, linkID: id)
        default: throw APIError.routeNotFound
        }
    }

    private var baseURL: String { environment.settings.baseURL }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .readRelease, actor: context.actor)
        let parameters = try await APIParameters.read(request, context: context)
        let orderBy = try parameters.string("order_by") ?? "released_at"
        guard ["released_at", "created_at", "semver"].contains(orderBy) else { throw APIError(.badRequest, error: "order_by does not have a valid value") }
        let sort = try parameters.string("sort") ?? "desc"
        guard ["asc", "desc"].contains(sort) else { throw APIError(.badRequest, error: "sort does not have a valid value") }
        let page = try await environment.store.releases.list(projectID: facts.project.id, orderBy: orderBy, ascending: sort == "asc", page: PageRequest(parameters))
        var entities: [ReleaseEntity] = []
        var users = UserCache(store: environment.store)
        for release in page.items { entities.append(try await entity(release, project: facts.project, users: &users)) }
        return try Page(items: entities, total: page.total, request: page.request).response(for: request, baseURL: baseURL)
    }

    func show(_ request: Request, context: AppRequestContext, tagName: String) async throws -> Response {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .readRelease, actor: context.actor)
        guard !tagName.isEmpty, let release = try await environment.store.releases.find(projectID: facts.project.id, tagName: tagName) else {
            throw APIError(.notFound, message: "404 Not Found")
        }
        var users = UserCache(store: environment.store)
        return try JSON.response(try await entity(release, project: facts.project, users: &users))
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .createRelease, actor: context.actor)
        let parameters = try await APIParameters.read(request, context: context)
        let tagName = try parameters.requireString("tag_name")
        let project = facts.project
        // GitLab's Releases::CreateService order: an existing release first, then the tag (made from `ref` if missing).
        if try await environment.store.releases.find(projectID: project.id, tagName: tagName) != nil {
            throw APIError(.conflict, message: "Release already exists")
        }
        var releasedAt = Date()
        if let text = try parameters.string("released_at"), !text.isEmpty {
            guard let date = Self.parseDate(text) else { throw APIError.invalid("released_at") }
            releasedAt = date
        }
        let tag: GitTag
        if let existing = try await environment.repositories.tag(projectID: project.id, name: tagName) {
            tag = existing
        } else {
            guard let ref = try parameters.string("ref"), !ref.isEmpty else { throw APIError(.unprocessableContent, message: "Ref is not specified") }
            // The tag is made as a push of it would be: protected tags and the default branch's name hold here too.
            let rules = try await environment.store.protectedTags.rules(projectID: project.id)
            if let refusal = AccessPolicy.checkTagChange(context.actor, .create, tag: tagName, origin: .api, rules: rules, on: facts) {
                throw APIError(.forbidden, message: refusal.message)
            }
            do {
                tag = try await environment.repositories.createTag(
                    projectID: project.id, name: tagName, ref: ref, message: try parameters.string("tag_message"), tagger: context.actor.user)
            } catch TagCreationError.invalidName {
                throw APIError(.badRequest, message: "Tag name invalid")
            } catch TagCreationError.exists {
                throw APIError(.conflict, message: "Tag \(tagName) already exists")
            } catch TagCreationError.unknownRef {
                throw APIError(.badRequest, message: "Target \(ref) is invalid")
            }
        }
        let name = try parameters.string("name").flatMap { $0.isEmpty ? nil : $0 } ?? tagName
        // A live token in the release's texts is revoked, and the release is not made.
        try await LeakedTokenGuard(environment: environment).refuseLeaks(
            in: [name, try parameters.string("description"), try parameters.string("tag_message")], surface: .release, project: project, authorID: context.actor.user?.id)
        let release: Release
        do {
            release = try await environment.store.releases.create(
                projectID: project.id, tagName: tag.name, name: name, description: try parameters.string("description") ?? "", sha: tag.commitSHA,
                authorID: context.actor.user?.id, releasedAt: releasedAt)
        } catch StoreError.duplicate {
            throw APIError(.conflict, message: "Release already exists")
        }
        var users = UserCache(store: environment.store)
        return try JSON.response(try await entity(release, project: project, users: &users), status: .created)
    }

    static func parseDate(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return date }
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle()) { return date }
        return nil
    }

    private func entity(_ release: Release, project: Project, users: inout UserCache) async throws -> ReleaseEntity {
        let commit = await environment.repositories.commit(projectID: project.id, sha: release.sha)
        let links = try await environment.store.releaseLinks.list(releaseID: release.id)
        return ReleaseEntity(
            release, project: project, author: try await users.user(release.authorID),
            commit: RepositoryCommitEntity(commit, sha: release.sha, webURL: "\(baseURL)/\(project.fullPath)/-/commit/\(release.sha)"), assetLinks: links,
            baseURL: baseURL)
    }
}

/// GitLab's `Release` entity.
struct ReleaseEntity: Encodable, Sendable {
    struct Assets: Encodable, Sendable {
        struct Source: Encodable, Sendable {
            var format: String
            var url: String
        }

        var count: Int
        var sources: [Source]
        var links: [ReleaseLinkEntity]
    }

    struct Links: Encodable, Sendable {
        var closedIssuesUrl: String
        var closedMergeRequestsUrl: String
        var editUrl: String
        var mergedMergeRequestsUrl: String
        var openedIssuesUrl: String
        var openedMergeRequestsUrl: String
        var `self`: String
    }

    var name: String
    var tagName: String
    var description: String
    var createdAt: Date
    var releasedAt: Date
    var upcomingRelease: Bool
    @Nullable var author: UserBasicEntity?
    var commit: RepositoryCommitEntity
    var commitPath: String
    var tagPath: String
    var assets: Assets
    var evidences: [String] = []
    var links: Links

    /// The tag as one URL path segment (`/` encoded too).
    static func encodedTag(_ tagName: String) -> String {
        tagName.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? tagName
    }

    init(_ release: Release, project: Project, author: User?, commit: RepositoryCommitEntity, assetLinks: [ReleaseLink], baseURL: String) {
        name = release.name
        tagName = release.tagName
        description = release.description
        createdAt = release.createdAt
        releasedAt = release.releasedAt
        upcomingRelease = release.releasedAt > Date()
        self.author = author.map { UserBasicEntity($0, baseURL: baseURL) }
        self.commit = commit
        commitPath = "/\(project.fullPath)/-/commit/\(release.sha)"
        let encodedTag = Self.encodedTag(release.tagName)
        tagPath = "/\(project.fullPath)/-/tags/\(encodedTag)"
        let sources = ["zip", "tar.gz", "tar.bz2", "tar"].map {
            Assets.Source(format: $0, url: "\(baseURL)/\(project.fullPath)/-/archive/\(encodedTag)/\(project.path)-\(encodedTag).\($0)")
        }
        let linkEntities = assetLinks.map { ReleaseLinkEntity($0, release: release, project: project, baseURL: baseURL) }
        assets = Assets(count: sources.count + linkEntities.count, sources: sources, links: linkEntities)
        let web = "\(baseURL)/\(project.fullPath)"
        links = Links(
            closedIssuesUrl: "\(web)/-/issues?release_tag=\(encodedTag)&scope=all&state=closed",
            closedMergeRequestsUrl: "\(web)/-/merge_requests?release_tag=\(encodedTag)&scope=all&state=closed",
            editUrl: "\(web)/-/releases/\(encodedTag)/edit",
            mergedMergeRequestsUrl: "\(web)/-/merge_requests?release_tag=\(encodedTag)&scope=all&state=merged",
            openedIssuesUrl: "\(web)/-/issues?release_tag=\(encodedTag)&scope=all&state=opened",
            openedMergeRequestsUrl: "\(web)/-/merge_requests?release_tag=\(encodedTag)&scope=all&state=opened",
            self: "\(web)/-/releases/\(encodedTag)")
    }

    private enum CodingKeys: String, CodingKey {
        case name, tagName, description, createdAt, releasedAt, upcomingRelease, author, commit, commitPath, tagPath, assets, evidences
        case links = "_links"
    }
}
