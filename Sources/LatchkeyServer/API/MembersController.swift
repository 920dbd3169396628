import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// `/groups/:id/members` and `/projects/:id/members`.
struct MembersController {
    let environment: ServerEnvironment

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        for kind in ["groups", "projects"] {
            routes.get("\(kind)/:id/members", use: list)
            routes.get("\(kind)/:id/members/all", use: listAll)
            routes.get("\(kind)/:id/members/:user_id", use: show)
            routes.post("\(kind)/:id/members", use: add)
            routes.put("\(kind)/:id/members/:user_id", use: update)
            routes.delete("\(kind)/:id/members/:user_id", use: remove)
        }
        return routes
    }

    private var baseURL: String { environment.settings.baseURL }

    /// What the route's `:id` names, once the actor is allowed the kind of access asked for.
    private struct Target {
        var source: MemberSource
        /// Group paths whose members are inherited (the group's ancestors, or the project's namespace chain).
        var inheritedFrom: String?
        var personalOwner: Int64?
    }

    private enum Need { case read, manage, manageOwners }

    private func target(_ request: Request, _ context: AppRequestContext, need: Need) async throws -> Target {
        let id = try context.parameters.require("id")
        if request.uri.path.contains("/groups/") {
            let ability: GroupAbility = switch need {
            case .read: .readGroup
            case .manage: .adminMembers
            case .manageOwners: .manageOwners
            }
            let facts = try await environment.authorizedGroup(id, ability, actor: context.actor)
            let parent = facts.group.fullPath.split(separator: "/").dropLast().joined(separator: "/")
            return Target(source: .group(facts.group.id), inheritedFrom: parent.isEmpty ? nil : parent, personalOwner: nil)
        }
        let ability: ProjectAbility = switch need {
        case .read: .readMembers
        case .manage: .adminMembers
        case .manageOwners: .manageOwners
        }
        let facts = try await environment.authorizedProject(id, ability, actor: context.actor)
        let namespace = facts.project.namespace
        return Target(
            source: .project(facts.project.id), inheritedFrom: namespace.kind == .group ? namespace.fullPath : nil,
            personalOwner: namespace.kind == .user ? namespace.ownerID : nil)
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let target = try await target(request, context, need: .read)
        let parameters = try await APIParameters.read(request, context: context)
        var members = try await environment.store.members.members(target.source)
        if let query = try parameters.string("query")?.lowercased(), !query.isEmpty {
            members = members.filter { $0.user.username.lowercased().contains(query) || $0.user.name.lowercased().contains(query) }
        }
        return try paginate(members, request: request, parameters: parameters)
    }

    /// Direct and inherited members, each at their highest level.
    @Sendable func listAll(_ request: Request, context: AppRequestContext) async throws -> Response {
        let target = try await target(request, context, need: .read)
        let parameters = try await APIParameters.read(request, context: context)
        var byUser: [Int64: Member] = [:]
        func merge(_ member: Member) {
            if let existing = byUser[member.user.id], existing.membership.accessLevel >= member.membership.accessLevel { return }
            byUser[member.user.id] = member
        }
        try await environment.store.members.members(target.source).forEach(merge)
        if let path = target.inheritedFrom {
            for group in try await environment.store.namespaces.groupChain(fullPath: path) {
                try await environment.store.members.members(.group(group.id)).forEach(merge)
            }
        }
        if let owner = target.personalOwner, let user = try await environment.store.users.find(id: owner) {
            merge(Member(user: user, membership: Membership(userID: owner, accessLevel: .owner, createdAt: user.createdAt)))
        }
        return try paginate(byUser.values.sorted { $0.user.id < $1.user.id }, request: request, parameters: parameters)
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let target = try await target(request, context, need: .read)
        guard let userID = context.parameters.get("user_id", as: Int64.self), let member = try await environment.store.members.member(target.source, userID: userID)
        else { throw APIError.notFound("Member") }
        return try JSON.response(MemberEntity(member, baseURL: baseURL))
    }

    @Sendable func add(_ request: Request, context: AppRequestContext) async throws -> Response {
        let parameters = try await APIParameters.read(request, context: context)
        let userIDText = try parameters.string("user_id")
        let username = try parameters.string("username")
        guard userIDText != nil || username != nil else { throw APIError(.badRequest, error: "user_id, username are missing, exactly one parameter must be provided") }
        guard parameters.has("access_level") else { throw APIError.missing("access_level") }
        let level = try accessLevel(parameters)
        let target = try await target(request, context, need: level == .owner ? .manageOwners : .manage)
        var user: User?
        if let userIDText {
            guard let id = Int64(userIDText) else { throw APIError.invalid("user_id") }
            user = try await environment.store.users.find(id: id)
        } else if let username {
            user = try await environment.store.users.find(username: username)
        }
        guard let user else { throw APIError.notFound("User") }
        let expiresAt = try parameters.string("expires_at")
        if let expiresAt, !Validation.isDay(expiresAt) { throw APIError.invalid("expires_at") }
        do {
            try await environment.store.members.add(target.source, userID: user.id, level: level, expiresAt: expiresAt)
        } catch StoreError.duplicate {
            throw APIError(.conflict, message: "Member already exists")
        }
        guard let member = try await environment.store.members.member(target.source, userID: user.id) else { throw APIError.notFound("Member") }
        return try JSON.response(MemberEntity(member, baseURL: baseURL), status: .created)
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> Response {
        let parameters = try await APIParameters.read(request, context: context)
        guard parameters.has("access_level") else { throw APIError.missing("access_level") }
        let level = try accessLevel(parameters)
        guard let userID = context.parameters.get("user_id", as: Int64.self) else { throw APIError.notFound("Member") }
        var target = try await target(request, context, need: level == .owner ? .manageOwners : .manage)
        guard let existing = try await environment.store.members.member(target.source, userID: userID) else { throw APIError.notFound("Member") }
        if existing.membership.accessLevel == .owner {
            target = try await self.target(request, context, need: .manageOwners)
            try await refuseRemovingLastOwner(target, userID: userID, newLevel: level)
        }
        let expiresAt = try parameters.string("expires_at")
        if let expiresAt, !Validation.isDay(expiresAt) { throw APIError.invalid("expires_at") }
        try await environment.store.members.update(target.source, userID: userID, level: level, expiresAt: parameters.has("expires_at") ? .some(expiresAt) : .none)
        guard let member = try await environment.store.members.member(target.source, userID: userID) else { throw APIError.notFound("Member") }
        return try JSON.response(MemberEntity(member, baseURL: baseURL))
    }

    @Sendable func remove(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let userID = context.parameters.get("user_id", as: Int64.self) else { throw APIError.notFound("Member") }
        // Members may leave by themselves; everyone else needs to manage members.
        let leaving = context.actor.user?.id == userID
        var target = try await target(request, context, need: leaving ? .read : .manage)
        guard let existing = try await environment.store.members.member(target.source, userID: userID) else { throw APIError.notFound("Member") }
        if existing.membership.accessLevel == .owner {
            if !leaving { target = try await self.target(request, context, need: .manageOwners) }
            try await refuseRemovingLastOwner(target, userID: userID, newLevel: nil)
        }
        try await environment.store.members.remove(target.source, userID: userID)
        return JSON.empty()
    }

    private func refuseRemovingLastOwner(_ target: Target, userID: Int64, newLevel: AccessLevel?) async throws {
        guard case .group = target.source, newLevel != .owner else { return }
        let owners = try await environment.store.members.members(target.source).filter { $0.membership.accessLevel == .owner }
        if owners.count == 1, owners[0].user.id == userID, target.inheritedFrom == nil {
            throw APIError(.forbidden, message: "403 Forbidden - A group must have at least one owner")
        }
    }

    private func accessLevel(_ parameters: APIParameters) throws -> AccessLevel {
        guard let raw = try? parameters.int("access_level"), let level = AccessLevel(rawValue: Int(raw)), level.isAssignable else {
            throw APIError(.badRequest, error: "access_level does not have a valid value")
        }
        return level
    }

    private func paginate(_ members: [Member], request: Request, parameters: APIParameters) throws -> Response {
        let pageRequest = try PageRequest(parameters)
        let items = members.dropFirst(pageRequest.offset).prefix(pageRequest.perPage).map { MemberEntity($0, baseURL: baseURL) }
        return try Page(items: Array(items), total: members.count, request: pageRequest).response(for: request, baseURL: baseURL)
    }
}
