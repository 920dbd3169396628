import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// `/groups`: groups and subgroups.
struct GroupsController {
    let environment: ServerEnvironment

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("groups", use: list)
        routes.post("groups", use: create)
        routes.get("groups/:id", use: show)
        routes.delete("groups/:id", use: delete)
        routes.get("groups/:id/subgroups", use: subgroups)
        routes.get("groups/:id/projects", use: projects)
        return routes
    }

    private var baseURL: String { environment.settings.baseURL }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let parameters = try await APIParameters.read(request, context: context)
        let topLevel = try parameters.bool("top_level_only") ?? false
        let groups = try await visibleGroups(context.actor, parentID: topLevel ? .some(nil) : nil, search: try parameters.string("search"))
        return try paginate(groups, request: request, parameters: parameters)
    }

    @Sendable func subgroups(_ request: Request, context: AppRequestContext) async throws -> Response {
        let parent = try await environment.authorizer.group(try context.parameters.require("id"), .readGroup, actor: context.actor)
        let parameters = try await APIParameters.read(request, context: context)
        let groups = try await visibleGroups(context.actor, parentID: .some(parent.group.id), search: try parameters.string("search"))
        return try paginate(groups, request: request, parameters: parameters)
    }

    @Sendable func projects(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizer.group(try context.parameters.require("id"), .readGroup, actor: context.actor)
        let parameters = try await APIParameters.read(request, context: context)
        var filter = ProjectFilter(viewer: try await environment.authorizer.projectViewer(context.actor))
        filter.underNamespacePath = facts.group.fullPath
        filter.search = try parameters.string("search")
        let page = try await environment.store.projects.list(filter, page: PageRequest(parameters))
        let entities = await page.items.asyncMap { ProjectEntity($0, baseURL: baseURL, emptyRepo: await environment.repositoryIsEmpty($0)) }
        return try Page(items: entities, total: page.total, request: page.request).response(for: request, baseURL: baseURL)
    }

    private func paginate(_ groups: [Group], request: Request, parameters: APIParameters) throws -> Response {
        let pageRequest = try PageRequest(parameters)
        let items = groups.dropFirst(pageRequest.offset).prefix(pageRequest.perPage).map { GroupEntity($0, baseURL: baseURL) }
        return try Page(items: Array(items), total: groups.count, request: pageRequest).response(for: request, baseURL: baseURL)
    }

    private func visibleGroups(_ actor: Actor, parentID: Int64??, search: String?) async throws -> [Group] {
        let groups = try await environment.store.namespaces.listGroups(parentID: parentID, search: search)
        var visible: [Group] = []
        for group in groups where try await isVisible(group, to: actor) { visible.append(group) }
        return visible
    }

    private func isVisible(_ group: Group, to actor: Actor) async throws -> Bool {
        try await environment.authorizer.isVisible(group, to: actor)
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizer.group(try context.parameters.require("id"), .readGroup, actor: context.actor)
        return try JSON.response(GroupEntity(facts.group, baseURL: baseURL))
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let user = context.actor.user else { throw APIError.unauthorized }
        let parameters = try await APIParameters.read(request, context: context)
        let missing = ["name", "path"].filter { ((try? parameters.string($0)) ?? nil)?.isEmpty ?? true }
        guard missing.isEmpty else { throw APIError(.badRequest, error: missing.map { "\($0) is missing" }.joined(separator: ", ")) }
        let name = try parameters.requireString("name")
        let path = try parameters.requireString("path")
        let visibility = try parameters.enumeration("visibility", Visibility.self) ?? .private
        var parentID: Int64?
        if try parameters.int("parent_id") == nil, case .denied(let denial) = AccessPolicy.mayCreateTopLevelGroup(context.actor) {
            throw denial == .botAccount ? APIError(.forbidden, message: "403 Forbidden") : APIError.from(denial, resource: "Group")
        }
        if let parent = try parameters.int("parent_id") {
            let facts = try await environment.authorizer.group(String(parent), for: context.actor)
            if case .denied(let denial) = AccessPolicy.decide(context.actor, .createSubgroup, on: facts) {
                throw denial == .notFound ? APIError.notFound("Group") : APIError(.forbidden, message: "403 Forbidden - You don't have permission to create a subgroup in this group.")
            }
            parentID = parent
            if visibility > facts.group.visibility {
                throw APIError.validation(["visibility_level": ["\(visibility.rawValue) is not allowed since the parent group has a \(facts.group.visibility.rawValue) visibility."]])
            }
        }
        guard Validation.isPath(path) else { throw APIError.validation(["path": [Validation.pathMessage]]) }
        do {
            let group = try await environment.store.namespaces.createGroup(
                NewGroup(name: name, path: path, parentID: parentID, visibility: visibility, description: try parameters.string("description") ?? ""), creatorID: user.id)
            return try JSON.response(GroupEntity(group, baseURL: baseURL), status: .created)
        } catch StoreError.duplicate {
            throw APIError(.badRequest, body: JSON.object(["message": .string("Failed to save group {:path=>[\"has already been taken\"]}")]))
        }
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizer.group(try context.parameters.require("id"), .adminGroup, actor: context.actor)
        let projects = try await environment.store.projects.projects(underNamespacePath: facts.group.fullPath)
        try await environment.removeProjects(projects)
        // Group access tokens die with their groups, as project ones with their projects.
        try await environment.store.resourceAccessTokens.retireBots(underGroupPath: facts.group.fullPath)
        try await environment.store.namespaces.deleteGroup(id: facts.group.id)
        return try JSON.response(["message": "202 Accepted"], status: .accepted)
    }
}

extension Array {
    /// `map` with an async transform, in order.
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        result.reserveCapacity(count)
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
