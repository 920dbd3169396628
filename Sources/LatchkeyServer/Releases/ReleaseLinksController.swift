import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// `/projects/:id/releases/:tag_name/assets/links`: a release's asset links (list, show, create, update, delete), as GitLab's
/// `API::Release::Links`. Reading needs read_release; writing create_release, update_release or destroy_release (Developer); a job
/// token reaches them with the `read_releases` / `admin_releases` policies of its allowlist entry.
struct ReleaseLinksController {
    let environment: ServerEnvironment

    /// Where a request under `projects/:id/releases/**` goes. The release routes need a catch-all (tag names may hold a raw `/`),
    /// and Hummingbird's trie cannot hold `releases/:tag_name/...` beside it, so `ReleasesController` parses the rest of the path.
    enum Target: Equatable {
        case release(tagName: String)
        case links(tagName: String)
        case link(tagName: String, linkID: String)

        /// `<tag>`, `<tag>/assets/links` or `<tag>/assets/links/<id>`, from the raw (still percent-encoded) rest of the path.
        init?(rawPath: String) {
            var segments = rawPath.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            func decode(_ parts: [String]) -> String { parts.joined(separator: "/").removingPercentEncoding ?? parts.joined(separator: "/") }
            if segments.count >= 3, segments[segments.count - 2] == "assets", segments[segments.count - 1] == "links" {
                segments.removeLast(2)
                self = .links(tagName: decode(segments))
            } else if segments.count >= 4, segments[segments.count - 3] == "assets", segments[segments.count - 2] == "links" {
                let id = segments.removeLast()
                segments.removeLast(2)
                self = .link(tagName: decode(segments), linkID: id)
            } else {
                self = .release(tagName: decode(segments))
            }
            switch self {
            case .release(let tag), .links(let tag), .link(let tag, _): if tag.isEmpty { return nil }
            }
        }
    }

    private var baseURL: String { environment.settings.baseURL }

    /// The project (read_release first, as GitLab's `after_validation`), then the release of `:tag_name`.
    private func release(_ context: AppRequestContext, tagName: String) async throws -> (facts: ProjectAccessFacts, release: Release) {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .readRelease, actor: context.actor)
        guard let release = try await environment.store.releases.find(projectID: facts.project.id, tagName: tagName) else { throw Self.notFound }
        return (facts, release)
    }

    /// The link of `:link_id` in the release.
    private func link(_ rawID: String, release: Release) async throws -> ReleaseLink {
        guard let id = Int64(rawID), id > 0 else { throw APIError.invalid("link_id") }
        guard let link = try await environment.store.releaseLinks.find(id: id, releaseID: release.id) else { throw Self.notFound }
        return link
    }

    /// GitLab's answer to a missing record here (`ActiveRecord::RecordNotFound`).
    static let notFound = APIError(.notFound, message: "404 Not found")

    func list(_ request: Request, context: AppRequestContext, tagName: String) async throws -> Response {
        let (facts, release) = try await release(context, tagName: tagName)
        let parameters = try await APIParameters.read(request, context: context)
        let pageRequest = try PageRequest(parameters)
        let links = try await environment.store.releaseLinks.list(releaseID: release.id)
        let slice = links.dropFirst(pageRequest.offset).prefix(pageRequest.perPage)
        let entities = slice.map { ReleaseLinkEntity($0, release: release, project: facts.project, baseURL: baseURL) }
        return try Page(items: entities, total: links.count, request: pageRequest).response(for: request, baseURL: baseURL)
    }

    func show(_ request: Request, context: AppRequestContext, tagName: String, linkID: String) async throws -> Response {
        let (facts, release) = try await release(context, tagName: tagName)
        let link = try await link(linkID, release: release)
        return try JSON.response(ReleaseLinkEntity(link, release: release, project: facts.project, baseURL: baseURL))
    }

    func create(_ request: Request, context: AppRequestContext, tagName: String) async throws -> Response {
        let (facts, release) = try await release(context, tagName: tagName)
        try await environment.authorizer.authorize(context.actor, .createRelease, facts)
        let parameters = try await APIParameters.read(request, context: context)
        var missing: [String] = []
        if try parameters.string("name") == nil { missing.append("name") }
        if try parameters.string("url") == nil { missing.append("url") }
        guard missing.isEmpty else { throw APIError(.badRequest, error: missing.map { "\($0) is missing" }.joined(separator: ", ")) }
        let draft = ReleaseLinkDraft(
            name: try parameters.string("name") ?? "", url: ReleaseLinkRules.normalizedURL(try parameters.string("url") ?? ""),
            filepath: try Self.filepath(parameters), linkType: try parameters.enumeration("link_type", ReleaseLinkType.self) ?? .other)
        let others = try await environment.store.releaseLinks.list(releaseID: release.id)
        guard others.count < ReleaseLinkRules.maxLinksPerRelease else {
            throw Self.invalid(["Release can have at most \(ReleaseLinkRules.maxLinksPerRelease) links"])
        }
        try Self.validate(draft, others: others.map(\.draft))
        // A live token in the link is revoked, and the link is not kept.
        try await LeakedTokenGuard(environment: environment).refuseLeaks(
            in: [draft.name, draft.url, draft.filepath], surface: .release, project: facts.project, authorID: context.actor.user?.id)
        let link: ReleaseLink
        do {
            link = try await environment.store.releaseLinks.create(releaseID: release.id, draft)
        } catch StoreError.duplicate {
            throw Self.invalid(["Link has already been taken"])
        }
        return try JSON.response(ReleaseLinkEntity(link, release: release, project: facts.project, baseURL: baseURL), status: .created)
    }

    func update(_ request: Request, context: AppRequestContext, tagName: String, linkID: String) async throws -> Response {
        let (facts, release) = try await release(context, tagName: tagName)
        let parameters = try await APIParameters.read(request, context: context)
        // Grape validates parameters before the endpoint runs: `at_least_one_of :name, :url`.
        guard parameters.has("name") || parameters.has("url") else { throw APIError(.badRequest, error: "name, url are missing, at least one parameter must be provided") }
        let linkType = try parameters.enumeration("link_type", ReleaseLinkType.self)
        let existing = try await link(linkID, release: release)
        try await environment.authorizer.authorize(context.actor, .updateRelease, facts)
        var draft = existing.draft
        if parameters.has("name") { draft.name = try parameters.string("name") ?? "" }
        if parameters.has("url") { draft.url = ReleaseLinkRules.normalizedURL(try parameters.string("url") ?? "") }
        if parameters.has("direct_asset_path") || parameters.has("filepath") { draft.filepath = try Self.filepath(parameters) }
        // GitLab's `link_type` defaults to `other` on update too, so a PUT without it resets the type.
        draft.linkType = linkType ?? .other
        let others = try await environment.store.releaseLinks.list(releaseID: release.id).filter { $0.id != existing.id }
        try Self.validate(draft, others: others.map(\.draft))
        // A live token in the link is revoked, and the link is not kept.
        try await LeakedTokenGuard(environment: environment).refuseLeaks(
            in: [draft.name, draft.url, draft.filepath], surface: .release, project: facts.project, authorID: context.actor.user?.id)
        let link: ReleaseLink
        do {
            link = try await environment.store.releaseLinks.update(id: existing.id, releaseID: release.id, draft)
        } catch StoreError.duplicate {
            throw Self.invalid(["Link has already been taken"])
        } catch StoreError.notFound {
            throw Self.notFound
        }
        return try JSON.response(ReleaseLinkEntity(link, release: release, project: facts.project, baseURL: baseURL))
    }

    func delete(_ request: Request, context: AppRequestContext, tagName: String, linkID: String) async throws -> Response {
        let (facts, release) = try await release(context, tagName: tagName)
        let link = try await link(linkID, release: release)
        try await environment.authorizer.authorize(context.actor, .destroyRelease, facts)
        guard try await environment.store.releaseLinks.delete(id: link.id, releaseID: release.id) else { throw Self.notFound }
        // GitLab answers the deleted link, with 200.
        return try JSON.response(ReleaseLinkEntity(link, release: release, project: facts.project, baseURL: baseURL))
    }

    /// `direct_asset_path`, or the deprecated `filepath`; an empty one means none.
    private static func filepath(_ parameters: APIParameters) throws -> String? {
        let path = try parameters.string("direct_asset_path") ?? parameters.string("filepath")
        return path?.isEmpty == true ? nil : path
    }

    private static func validate(_ draft: ReleaseLinkDraft, others: [ReleaseLinkDraft]) throws {
        let errors = ReleaseLinkRules.errors(draft, others: others)
        guard errors.isEmpty else { throw invalid(errors) }
    }

    /// `render_api_error!(link.errors.full_messages, 400)`: `{"message": ["…"]}`.
    private static func invalid(_ messages: [String]) -> APIError {
        APIError(.badRequest, body: JSON.object(["message": .array(messages.map(JSONValue.string))]))
    }
}

/// GitLab's `Releases::Link` entity.
struct ReleaseLinkEntity: Encodable, Sendable {
    var id: Int64
    var name: String
    var url: String
    var directAssetUrl: String
    var external: Bool
    var linkType: String

    init(_ link: ReleaseLink, release: Release, project: Project, baseURL: String) {
        id = link.id
        name = link.name
        url = link.url
        let web = "\(baseURL)/\(project.fullPath)"
        if let filepath = link.filepath {
            directAssetUrl = "\(web)/-/releases/\(ReleaseEntity.encodedTag(release.tagName))/downloads\(filepath)"
        } else {
            directAssetUrl = link.url
        }
        external = !link.url.hasPrefix(web)
        linkType = link.linkType.rawValue
    }
}
