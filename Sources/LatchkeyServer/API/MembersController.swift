import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// `/groups/:id/members` and `/projects/:id/members`.
struct MembersController {
    let authorizer: Authorizer
    let store: Store
    let baseURL: String

    init(authorizer: Authorizer, store: Store, baseURL: String) {
        self.authorizer = authorizer
        self.store = store
        self.baseURL = baseURL
    }

    init(environment: ServerEnvironment) {
        self.init(authorizer: environment.authorizer, store: environment.store, baseURL: environment.settings.baseURL)
    }

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

    /// What the route's `:id` names: the members' source and where inherited members come from.
    private struct Target {
        var access: MembershipTarget
        var source: MemberSource
        /// Group paths whose members are inherited (the group's ancestors, or the project's namespace chain).
        var inheritedFrom: String?
        var personalOwner: Int64?
    }

    /// The target, without a decision yet.
    private func target(_ request: Request, _ context: AppRequestContext) async throws -> Target {
        let access = try await authorizer.membershipTarget(try context.parameters.require("id"), groups: request.uri.path.contains("/groups/"), actor: context.actor)
        switch access {
        case .group(let facts):
            let parent = facts.group.fullPath.split(separator: "/").dropLast().joined(separator: "/")
            return Target(access: access, source: .group(facts.group.id), inheritedFrom: parent.isEmpty ? nil : parent, personalOwner: nil)
        case .project(let facts):
            let namespace = facts.project.namespace
            return Target(
                access: access, source: .project(facts.project.id), inheritedFrom: namespace.kind == .group ? namespace.fullPath : nil,
                personalOwner: namespace.kind == .user ? namespace.ownerID : nil)
        }
    }

    /// The target, once the actor may read its members.
    private func readable(_ request: Request, _ context: AppRequestContext) async throws -> Target {
        let target = try await target(request, context)
        try authorizer.authorizeReadMembers(target.access, actor: context.actor)
        return target
    }

    /// The target, once the actor may manage its members at `level`.
    private func manageable(_ request: Request, _ context: AppRequestContext, at level: AccessLevel) async throws -> Target {
        let target = try await target(request, context)
        try authorizer.authorizeManageMembers(target.access, at: level, actor: context.actor)
        return target
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let target = try await readable(request, context)
        let parameters = try await APIParameters.read(request, context: context)
        var members = try await store.members.members(target.source)
        if let query = try parameters.string("query")?.lowercased(), !query.isEmpty {
            members = members.filter { $0.user.username.lowercased().contains(query) || $0.user.name.lowercased().contains(query) }
        }
        return try paginate(members, request: request, parameters: parameters)
    }

    /// Direct and inherited members, each at their highest level.
    @Sendable func listAll(_ request: Request, context: AppRequestContext) async throws -> Response {
        let target = try await readable(request, context)
        let parameters = try await APIParameters.read(request, context: context)
        var byUser: [Int64: Member] = [:]
        func merge(_ member: Member) {
            guard let existing = byUser[member.user.id] else { return byUser[member.user.id] = member }
            if AccessPolicy.isStronger(member.membership, than: existing.membership) { byUser[member.user.id] = member }
        }
        try await store.members.members(target.source).forEach(merge)
        if let path = target.inheritedFrom {
            for group in try await store.namespaces.groupChain(fullPath: path) {
                try await store.members.members(.group(group.id)).forEach(merge)
            }
        }
        if let owner = target.personalOwner, let user = try await store.users.find(id: owner) {
            merge(Member(user: user, membership: Membership(userID: owner, accessLevel: .owner, createdAt: user.createdAt)))
        }
        return try paginate(byUser.values.sorted { $0.user.id < $1.user.id }, request: request, parameters: parameters)
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let target = try await readable(request, context)
        guard let userID = context.parameters.get("user_id", as: Int64.self), let member = try await store.members.member(target.source, userID: userID)
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
        let target = try await manageable(request, context, at: level)
        var user: User?
        if let userIDText {
            guard let id = Int64(userIDText) else { throw APIError.invalid("user_id") }
            user = try await store.users.find(id: id)
        } else if let username {
            user = try await store.users.find(username: username)
        }
        guard let user else { throw APIError.notFound("User") }
        // A project access token's bot is that project's member by its token alone; added elsewhere, a token made for one project
        // would open others.
        guard !user.isBot else { throw APIError.validation(["user": ["project bots cannot be added to other projects or groups"]]) }
        try await authorizer.authorize(.add(level), of: user.id, on: target.access, actor: context.actor)
        let expiresAt = try parameters.string("expires_at")
        if let expiresAt, !Validation.isDay(expiresAt) { throw APIError.invalid("expires_at") }
        do {
            try await store.members.add(target.source, userID: user.id, level: level, expiresAt: expiresAt)
        } catch StoreError.duplicate {
            throw APIError(.conflict, message: "Member already exists")
        }
        guard let member = try await store.members.member(target.source, userID: user.id) else { throw APIError.notFound("Member") }
        return try JSON.response(MemberEntity(member, baseURL: baseURL), status: .created)
    }

    @Sendable func update(_ request: Request, context: AppRequestContext) async throws -> Response {
        let parameters = try await APIParameters.read(request, context: context)
        guard parameters.has("access_level") else { throw APIError.missing("access_level") }
        let level = try accessLevel(parameters)
        guard let userID = context.parameters.get("user_id", as: Int64.self) else { throw APIError.notFound("Member") }
        let target = try await manageable(request, context, at: level)
        guard let existing = try await store.members.member(target.source, userID: userID) else { throw APIError.notFound("Member") }
        try await authorizer.authorize(.update(from: existing.membership.accessLevel, to: level), of: userID, on: target.access, actor: context.actor)
        let expiresAt = try parameters.string("expires_at")
        if let expiresAt, !Validation.isDay(expiresAt) { throw APIError.invalid("expires_at") }
        try await store.members.update(target.source, userID: userID, level: level, expiresAt: parameters.has("expires_at") ? .some(expiresAt) : .none)
        guard let member = try await store.members.member(target.source, userID: userID) else { throw APIError.notFound("Member") }
        return try JSON.response(MemberEntity(member, baseURL: baseURL))
    }

    @Sendable func remove(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let userID = context.parameters.get("user_id", as: Int64.self) else { throw APIError.notFound("Member") }
        // Members may leave by themselves; everyone else needs to manage members.
        let leaving = context.actor.user?.id == userID
        let target = leaving ? try await readable(request, context) : try await manageable(request, context, at: .guest)
        guard let existing = try await store.members.member(target.source, userID: userID) else { throw APIError.notFound("Member") }
        try await authorizer.authorize(.remove(existing.membership.accessLevel), of: userID, on: target.access, actor: context.actor)
        try await store.members.remove(target.source, userID: userID)
        return JSON.empty()
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
