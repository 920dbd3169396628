import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// `/projects/:id/access_tokens` and `/groups/:id/access_tokens`: access tokens, each a bot user that is a member of that project
/// or group only (a group's reaches the group's projects as any member's role does). Managing them is managing members
/// (`admin_project_member` / `admin_group_member`, Maintainers), and nobody makes a token with a role above their own (only
/// Owners make Owner tokens), decided by `AccessPolicy` through the `Authorizer`. A job token has no part in it.
struct ResourceAccessTokensController {
    let authorizer: Authorizer
    let store: Store
    let digester: TokenDigester
    let host: String

    /// How long a rotated token lives when no `expires_at` is named (GitLab's resource-token rotation: one week).
    static let rotationLifetimeDays = 7

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        for kind in ["projects", "groups"] {
            routes.get("\(kind)/:id/access_tokens", use: list)
            routes.post("\(kind)/:id/access_tokens", use: create)
            routes.get("\(kind)/:id/access_tokens/:token_id", use: show)
            routes.delete("\(kind)/:id/access_tokens/:token_id", use: revoke)
            routes.post("\(kind)/:id/access_tokens/:token_id/rotate", use: rotate)
        }
        return routes
    }

    /// The project or group the path names, once the caller may manage its members.
    private struct Resource {
        var target: MembershipTarget
        var source: MemberSource
        var kind: String
        var id: Int64
    }

    private func resource(_ request: Request, _ context: AppRequestContext) async throws -> Resource {
        let id = try context.parameters.require("id")
        if request.uri.path.hasPrefix("/api/v4/groups/") {
            let facts = try await authorizer.group(id, .adminMembers, actor: context.actor)
            return Resource(target: .group(facts), source: .group(facts.group.id), kind: "group", id: facts.group.id)
        }
        let facts = try await authorizer.project(id, .adminMembers, actor: context.actor)
        return Resource(target: .project(facts), source: .project(facts.project.id), kind: "project", id: facts.project.id)
    }

    private func token(_ context: AppRequestContext, in resource: Resource) async throws -> (token: PersonalAccessToken, accessLevel: AccessLevel?) {
        guard let id = context.parameters.get("token_id", as: Int64.self), let found = try await store.resourceAccessTokens.find(resource.source, id: id) else {
            throw APIError(.notFound, message: "404 Could not find \(resource.kind) access token with token_id: \(context.parameters.get("token_id") ?? "") Not Found")
        }
        return found
    }

    /// GitLab's "can't make a token above yourself", as a 400 with its message.
    private func authorizeLevel(_ level: AccessLevel, _ resource: Resource, _ context: AppRequestContext) throws {
        do {
            try authorizer.authorizeManageMembers(resource.target, at: level, actor: context.actor)
        } catch is AccessDenied {
            throw APIError(.badRequest, message: "400 Bad request - Not eligible to create token with access level higher than the user")
        }
    }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let resource = try await resource(request, context)
        let parameters = try await APIParameters.read(request, context: context)
        let state = try parameters.string("state")
        guard state == nil || state == "active" || state == "inactive" else { throw APIError(.badRequest, error: "state does not have a valid value") }
        let tokens = try await store.resourceAccessTokens.list(resource.source).filter { entry in
            switch state {
            case "active": entry.token.isActive()
            case "inactive": !entry.token.isActive()
            default: true
            }
        }
        return try JSON.response(tokens.map { ResourceAccessTokenEntity($0.token, accessLevel: $0.accessLevel, secret: nil) })
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let resource = try await resource(request, context)
        let found = try await token(context, in: resource)
        return try JSON.response(ResourceAccessTokenEntity(found.token, accessLevel: found.accessLevel, secret: nil))
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        let resource = try await resource(request, context)
        let parameters = try await APIParameters.read(request, context: context)
        guard let name = try parameters.string("name"), !name.isEmpty else { throw APIError.missing("name") }
        guard name.count <= 255 else { throw APIError(.badRequest, message: "400 Bad request - Name is too long (maximum is 255 characters)") }
        guard let scopeNames = try parameters.stringList("scopes"), !scopeNames.isEmpty else { throw APIError.missing("scopes") }
        let scopes = try scopeNames.map { name in
            guard let scope = TokenScope(rawValue: name) else { throw APIError(.badRequest, error: "scopes does not have a valid value") }
            return scope
        }
        let rawLevel = try parameters.int("access_level") ?? Int64(AccessLevel.maintainer.rawValue)
        guard [10, 15, 20, 30, 40, 50].contains(rawLevel), let level = AccessLevel(rawValue: .init(rawLevel)) else {
            throw APIError(.badRequest, error: "access_level does not have a valid value")
        }
        try authorizeLevel(level, resource, context)
        let today = Date()
        let expiresAt =
            try PersonalAccessTokensController.day(parameters, "expires_at")
            ?? PersonalAccessToken.day(today.addingTimeInterval(Double(PersonalAccessTokensController.maximumLifetimeDays) * 86_400))
        guard expiresAt > PersonalAccessToken.day(today) else { throw APIError(.badRequest, message: "400 Bad request - Expires at must be in the future") }
        try PersonalAccessTokensController.checkLifetime(expiresAt, today: today) { APIError(.badRequest, message: "400 Bad request - \($0)") }

        let suffix = (0..<8).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        let username = "\(resource.kind)_\(resource.id)_bot_\(suffix)"
        let bot = NewUser(username: username, name: name, email: "\(username)@noreply.\(host)", passwordHash: nil, isAdmin: false, isBot: true)
        let secret = SecretToken.mint(.personalAccess)
        let created = try await store.resourceAccessTokens.create(
            resource.source, bot: bot, level: level, name: name, description: try parameters.string("description"),
            digest: digester.digest(secret), scopes: scopes, expiresAt: expiresAt)
        return try JSON.response(ResourceAccessTokenEntity(created.token, accessLevel: created.accessLevel, secret: secret), status: .created)
    }

    @Sendable func revoke(_ request: Request, context: AppRequestContext) async throws -> Response {
        let resource = try await resource(request, context)
        let found = try await token(context, in: resource)
        try authorizeLevel(found.accessLevel ?? .guest, resource, context)
        guard try await store.resourceAccessTokens.revoke(resource.source, id: found.token.id) else {
            throw APIError(.badRequest, message: "400 Bad request - Token already revoked")
        }
        return Response(status: .noContent)
    }

    @Sendable func rotate(_ request: Request, context: AppRequestContext) async throws -> Response {
        let resource = try await resource(request, context)
        let found = try await token(context, in: resource)
        guard let level = found.accessLevel, found.token.isActive() else { throw APIError(.badRequest, message: "400 Bad request - Token already revoked") }
        try authorizeLevel(level, resource, context)
        let parameters = try await APIParameters.read(request, context: context)
        let expiresAt = try PersonalAccessTokensController.rotationExpiry(parameters, defaultDays: Self.rotationLifetimeDays)
        let secret = SecretToken.mint(.personalAccess)
        guard let successor = try await store.personalAccessTokens.rotate(id: found.token.id, digest: digester.digest(secret), expiresAt: expiresAt) else {
            throw APIError(.badRequest, message: "400 Bad request - Token already revoked")
        }
        try await store.resourceAccessTokens.extendMembership(resource.source, botID: successor.userID, expiresAt: expiresAt)
        return try JSON.response(ResourceAccessTokenEntity(successor, accessLevel: level, secret: secret))
    }
}

/// GitLab's `ResourceAccessToken` entity: a personal access token's fields and the bot's `access_level` (`token` when just made or
/// rotated).
struct ResourceAccessTokenEntity: Encodable, Sendable {
    var token: PersonalAccessTokenEntity
    var accessLevel: Int?

    private enum CodingKeys: String, CodingKey {
        case accessLevel
    }

    init(_ token: PersonalAccessToken, accessLevel: AccessLevel?, secret: SecretToken?) {
        self.token = PersonalAccessTokenEntity(token, token: secret)
        self.accessLevel = accessLevel?.rawValue
    }

    func encode(to encoder: any Encoder) throws {
        try token.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        if let accessLevel { try container.encode(accessLevel, forKey: .accessLevel) } else { try container.encodeNil(forKey: .accessLevel) }
    }
}
