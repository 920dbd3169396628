import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// `/projects/:id/protected_branches`: who may push and merge to which branches (Maintainers manage them, as GitLab's
/// `ProtectedBranchPolicy` delegates to admin_project).
struct ProtectedBranchesController {
    let environment: ServerEnvironment

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("projects/:id/protected_branches", use: list)
        routes.post("projects/:id/protected_branches", use: create)
        routes.get("projects/:id/protected_branches/:name", use: show)
        routes.patch("projects/:id/protected_branches/:name", use: update)
        routes.delete("projects/:id/protected_branches/:name", use: delete)
        return routes
    }

    /// GitLab's `ProtectedBranch` entity (CE fields; one access level entry per list, as the single-level API makes them).
    struct ProtectedBranchEntity: Encodable {
        var id: Int64
        var name: String
        var pushAccessLevels: [ProtectedRefAccessLevelEntity]
        var mergeAccessLevels: [ProtectedRefAccessLevelEntity]
        var allowForcePush: Bool
        var codeOwnerApprovalRequired = false

        init(_ rule: ProtectedBranch) {
            id = rule.id
            name = rule.name
            pushAccessLevels = [ProtectedRefAccessLevelEntity(id: rule.id, rule.pushAccessLevel)]
            mergeAccessLevels = [ProtectedRefAccessLevelEntity(id: rule.id, rule.mergeAccessLevel)]
            allowForcePush = rule.allowForcePush
        }
    }

    /// Premium parameters: refused by name rather than ignored, so a rule never allows more than the caller asked.
    private static let premiumParameters = ["allowed_to_push", "allowed_to_merge", "allowed_to_unprotect", "unprotect_access_level"]

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .adminProject, actor: context.actor)
        let parameters = try await APIParameters.read(request, context: context)
        var rules = try await environment.store.protectedBranches.rules(projectID: facts.project.id).rules
        if let search = try parameters.string("search"), !search.isEmpty { rules = rules.filter { $0.name.localizedCaseInsensitiveContains(search) } }
        let page = try PageRequest(parameters)
        let slice = rules.dropFirst(page.offset).prefix(page.perPage).map(ProtectedBranchEntity.init)
        return try Page(items: Array(slice), total: rules.count, request: page).response(for: request, baseURL: environment.settings.baseURL)
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (_, rule) = try await find(context)
        return try JSON.response(ProtectedBranchEntity(rule))
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .adminProject, actor: context.actor)
        let parameters = try await APIParameters.read(request, context: context)
        let name = try parameters.requireString("name")
        var rule = NewProtectedBranch(name: name)
        if let level = try Self.level(parameters, "push_access_level") { rule.pushAccessLevel = level }
        if let level = try Self.level(parameters, "merge_access_level") { rule.mergeAccessLevel = level }
        if let force = try parameters.bool("allow_force_push") { rule.allowForcePush = force }
        try Self.refusePremium(parameters)
        guard ProtectedBranch.isValidName(name) else { throw APIError.invalid("name") }
        do {
            let created = try await environment.store.protectedBranches.create(projectID: facts.project.id, rule)
            return try JSON.response(ProtectedBranchEntity(created), status: .created)
        } catch StoreError.duplicate {
            throw APIError(.conflict, message: "Protected branch '\(name)' already exists")
        }
    }

    // GitLab's PATCH takes `allow_force_push`; the single access levels are taken too (GitLab CE would ignore them).
    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> Response {
        var (_, rule) = try await find(context)
        let parameters = try await APIParameters.read(request, context: context)
        if let level = try Self.level(parameters, "push_access_level") { rule.pushAccessLevel = level }
        if let level = try Self.level(parameters, "merge_access_level") { rule.mergeAccessLevel = level }
        if let force = try parameters.bool("allow_force_push") { rule.allowForcePush = force }
        try Self.refusePremium(parameters)
        do {
            return try JSON.response(ProtectedBranchEntity(try await environment.store.protectedBranches.update(rule)))
        } catch StoreError.notFound {
            throw APIError(.notFound, message: "404 Not found")
        }
    }

    @Sendable func delete(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (facts, rule) = try await find(context)
        try await environment.store.protectedBranches.delete(id: rule.id, projectID: facts.project.id)
        return Response(status: .noContent)
    }

    private func find(_ context: AppRequestContext) async throws -> (ProjectAccessFacts, ProtectedBranch) {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .adminProject, actor: context.actor)
        let raw = try context.parameters.require("name")
        let name = raw.removingPercentEncoding ?? raw
        // ActiveRecord's `find_by!` miss, as Grape answers it.
        guard let rule = try await environment.store.protectedBranches.find(projectID: facts.project.id, name: name) else {
            throw APIError(.notFound, message: "404 Not found")
        }
        return (facts, rule)
    }

    private static func level(_ parameters: APIParameters, _ name: String) throws -> ProtectedRefAccessLevel? {
        guard let value = try parameters.int(name) else { return nil }
        guard let level = ProtectedRefAccessLevel(rawValue: Int(clamping: value)) else {
            throw APIError(.badRequest, error: "\(name) does not have a valid value")
        }
        return level
    }

    private static func refusePremium(_ parameters: APIParameters) throws {
        for name in premiumParameters where parameters.mentions(name) {
            throw APIError(.badRequest, error: "\(name) is not supported (a GitLab Premium feature)")
        }
        if try parameters.bool("code_owner_approval_required") == true {
            throw APIError(.badRequest, error: "code_owner_approval_required is not supported (a GitLab Premium feature)")
        }
    }
}
