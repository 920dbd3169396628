import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// `GET /projects/:id/repository/tree`: a directory of the repository at a ref (GitLab's `TreeObject`s), with legacy, keyset or no
/// pagination. Needs read_code; a job token is no credential here (not in GitLab's job-token table).
struct RepositoryTreeController {
    let environment: ServerEnvironment

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("projects/:id/repository/tree", use: tree)
        return routes
    }

    /// GitLab's `TreeObject`.
    struct TreeObjectEntity: Encodable, Sendable {
        var id: String
        var name: String
        var type: String
        var path: String
        var mode: String
    }

    @Sendable func tree(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .downloadCode, actor: context.actor)
        let parameters = try await APIParameters.read(request, context: context)
        let recursive = try parameters.bool("recursive") ?? false
        let pagination = try parameters.string("pagination") ?? "legacy"
        guard ["legacy", "keyset", "none"].contains(pagination) else { throw APIError(.badRequest, error: "pagination does not have a valid value") }
        if pagination == "none", !recursive { throw APIError(.badRequest, error: "pagination cannot be \"none\" unless \"recursive\" is true") }
        let path: String
        do { path = try RepositoryPath.parse(try parameters.string("path") ?? "") } catch { throw APIError.invalid("path") }
        let ref = try parameters.string("ref").flatMap { $0.isEmpty ? nil : $0 } ?? facts.project.defaultBranch
        guard Git.isSafeRef(ref), let sha = await environment.repositories.resolve(projectID: facts.project.id, ref: ref) else {
            throw APIError.notFound("Tree")
        }
        let entries: [GitTreeEntry]
        do {
            entries = try await environment.repositories.tree(projectID: facts.project.id, sha: sha, path: path, recursive: recursive)
        } catch RepositoryBrowsingError.tooLarge {
            throw APIError(.unprocessableContent, message: "The tree is too large to list; ask for a path inside it or leave out recursive")
        } catch {
            throw APIError.notFound("invalid revision or path")
        }
        let objects = entries.map { TreeObjectEntity(id: $0.id, name: $0.name, type: $0.type, path: $0.path, mode: $0.mode) }
        let baseURL = environment.settings.baseURL
        switch pagination {
        case "none":
            return try JSON.response(objects)
        case "keyset":
            return try keysetPage(objects, parameters: parameters, request: request, baseURL: baseURL)
        default:
            let pageRequest = try PageRequest(parameters)
            let slice = Array(objects.dropFirst(pageRequest.offset).prefix(pageRequest.perPage))
            return try Page(items: slice, total: objects.count, request: pageRequest).response(for: request, baseURL: baseURL)
        }
    }

    /// Gitaly's keyset pages: the entries after the one whose id is `page_token`, and a `Link: rel="next"` while more remain.
    private func keysetPage(_ objects: [TreeObjectEntity], parameters: APIParameters, request: Request, baseURL: String) throws -> Response {
        let perPage = Int(min(max(try parameters.int("per_page") ?? 20, 1), 100))
        var start = 0
        if let token = try parameters.string("page_token"), !token.isEmpty {
            guard let index = objects.firstIndex(where: { $0.id == token }) else { throw APIError(.badRequest, message: "page_token is invalid") }
            start = index + 1
        }
        let slice = Array(objects.dropFirst(start).prefix(perPage))
        var headers: HTTPFields = [:]
        if start + slice.count < objects.count, let last = slice.last {
            var components = URLComponents(string: baseURL + request.uri.path) ?? URLComponents()
            var items = (URLComponents(string: request.uri.description)?.queryItems ?? []).filter { $0.name != "page_token" && $0.name != "per_page" }
            items += [URLQueryItem(name: "page_token", value: last.id), URLQueryItem(name: "per_page", value: String(perPage))]
            components.queryItems = items
            headers[HTTPField.Name("Link")!] = "<\(components.string ?? "")>; rel=\"next\""
        }
        return try JSON.response(slice, headers: headers)
    }
}
