import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// `/projects/:id/protected_tags`: who may create which tags (Maintainers manage them: GitLab's `authorize_admin_project`).
struct ProtectedTagsController {
    let authorizer: Authorizer
    let protectedTags: ProtectedTagRepository
    let baseURL: String

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("projects/:id/protected_tags", use: list)
        routes.post("projects/:id/protected_tags", use: create)
        routes.get("projects/:id/protected_tags/:name", use: show)
        routes.delete("projects/:id/protected_tags/:name", use: delete)
        return routes
    }

    /// GitLab's `ProtectedTag` entity (CE: one access level entry, as the single-level API makes it).
    struct ProtectedTagEntity: Encodable {
        var name: String
        var createAccessLevels: [ProtectedRefAccessLevelEntity]

        init(_ rule: ProtectedTag) {
            name = rule.name
            createAccessLevels = [ProtectedRefAccessLevelEntity(id: rule.id, rule.createAccessLevel)]
        }
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await authorizer.project(try context.parameters.require("id"), .adminProject, actor: context.actor)
        let parameters = try await APIParameters.read(request, context: context)
        let rules = try await protectedTags.rules(projectID: facts.project.id).rules
        let page = try PageRequest(parameters)
        let slice = rules.dropFirst(page.offset).prefix(page.perPage).map(ProtectedTagEntity.init)
        return try Page(items: Array(slice), total: rules.count, request: page).response(for: request, baseURL: baseURL)
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (_, rule) = try await find(context)
        return try JSON.response(ProtectedTagEntity(rule))
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await authorizer.project(try context.parameters.require("id"), .adminProject, actor: context.actor)
        let parameters = try await APIParameters.read(request, context: context)
        let name = try parameters.requireString("name")
        var level = ProtectedRefAccessLevel.maintainer
        if let raw = try parameters.int("create_access_level") {
            // GitLab's valid levels for tags: no one, Developers, Maintainers (administrators only is a branch level).
            guard let parsed = ProtectedRefAccessLevel(rawValue: Int(clamping: raw)), parsed != .admin else {
                throw APIError(.badRequest, error: "create_access_level does not have a valid value")
            }
            level = parsed
        }
        // Premium's per-user and per-group lists: refused by name rather than ignored, so a rule never admits more than asked.
        if parameters.mentions("allowed_to_create") {
            throw APIError(.badRequest, error: "allowed_to_create is not supported (a GitLab Premium feature)")
        }
        guard ProtectedBranch.isValidName(name) else { throw APIError.invalid("name") }
        do {
            let created = try await protectedTags.create(projectID: facts.project.id, name: name, createAccessLevel: level)
            return try JSON.response(ProtectedTagEntity(created), status: .created)
        } catch StoreError.duplicate {
            // GitLab renders the record's validation errors with a 422.
            throw APIError(.unprocessableContent, body: JSON.object(["message": .array([.string("Name has already been taken")])]))
        }
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (facts, rule) = try await find(context)
        try await protectedTags.delete(id: rule.id, projectID: facts.project.id)
        return Response(status: .noContent)
    }

    private func find(_ context: AppRequestContext) async throws -> (ProjectAccessFacts, ProtectedTag) {
        let facts = try await authorizer.project(try context.parameters.require("id"), .adminProject, actor: context.actor)
        let raw = try context.parameters.require("name")
        let name = raw.removingPercentEncoding ?? raw
        guard let rule = try await protectedTags.find(projectID: facts.project.id, name: name) else {
            throw APIError(.notFound, message: "404 Not found")
        }
        return (facts, rule)
    }
}
