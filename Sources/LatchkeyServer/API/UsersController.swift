import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// `/users`, `/user` and personal access tokens.
struct UsersController {
    let environment: ServerEnvironment

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("users", use: list)
        routes.post("users", use: create)
        routes.get("users/:user_id", use: show)
        routes.get("user", use: current)
        routes.post("users/:user_id/personal_access_tokens", use: createToken)
        routes.post("users/:user_id/block", use: block)
        routes.post("users/:user_id/unblock", use: unblock)
        return routes
    }

    private var baseURL: String { environment.settings.baseURL }

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let parameters = try await APIParameters.read(request, context: context)
        let username = try parameters.string("username")
        // Anyone may look a user up by username (GitLab's public profile); listing everyone needs a sign-in.
        guard context.actor.user != nil || username != nil else { throw APIError.unauthorized }
        let administrator = environment.authorizer.allows(context.actor, .administer)
        var filter = UserFilter()
        filter.search = try parameters.string("search")
        filter.username = username
        filter.searchEmails = administrator
        filter.active = try parameters.bool("active")
        filter.blocked = try parameters.bool("blocked")
        filter.adminsOnly = try parameters.bool("admins") ?? false
        if filter.adminsOnly, !administrator { throw APIError.forbidden }
        for name in ["created_after", "created_before"] {
            guard let text = try parameters.string(name) else { continue }
            guard let date = TimestampParameter.parse(text) else { throw APIError.invalid(name) }
            if name == "created_after" { filter.createdAfter = date } else { filter.createdBefore = date }
        }
        // Every user here is a human, internal to nothing and not external: `humans`, `exclude_internal`, `exclude_external` and
        // `external=false` hold for all. Filters Latchkey has nothing to match with are refused rather than ignored.
        if try parameters.bool("external") == true {
            return try Page(items: [UserBasicEntity](), total: 0, request: try PageRequest(parameters)).response(for: request, baseURL: baseURL)
        }
        for name in ["without_projects", "extern_uid", "provider", "two_factor", "saml_provider_id", "skip_ldap"] where parameters.has(name) {
            throw APIError(.badRequest, error: "\(name) is not supported")
        }
        let page = try await environment.store.users.list(filter, page: PageRequest(parameters))
        if administrator {
            return try page.map { UserEntity($0, baseURL: baseURL) }.response(for: request, baseURL: baseURL)
        }
        return try page.map { UserBasicEntity($0, baseURL: baseURL) }.response(for: request, baseURL: baseURL)
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try await user(context)
        if environment.authorizer.allows(context.actor, .readFullProfile, user: user.id) {
            return try JSON.response(UserEntity(user, baseURL: baseURL))
        }
        return try JSON.response(UserBasicEntity(user, baseURL: baseURL))
    }

    @Sendable func current(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let user = context.actor.user else { throw APIError.unauthorized }
        let namespace = try await environment.store.namespaces.personalNamespace(userID: user.id)
        return try JSON.response(UserEntity(user, baseURL: baseURL, namespaceID: namespace?.id))
    }

    @Sendable func create(_ request: Request, context: AppRequestContext) async throws -> Response {
        try requireAdmin(context)
        let parameters = try await APIParameters.read(request, context: context)
        let missing = ["email", "name", "username"].filter { ((try? parameters.string($0)) ?? nil)?.isEmpty ?? true }
        guard missing.isEmpty else { throw APIError(.badRequest, error: missing.map { "\($0) is missing" }.joined(separator: ", ")) }
        let username = try parameters.requireString("username")
        let email = try parameters.requireString("email")
        var problems: [String: [String]] = [:]
        if !Validation.isPath(username) { problems["username", default: []].append(Validation.pathMessage) }
        if !Validation.isEmail(email) { problems["email", default: []].append("is invalid") }
        var password = try parameters.string("password")
        let randomPassword = try parameters.bool("force_random_password") ?? false || (try parameters.bool("reset_password") ?? false)
        if password == nil && !randomPassword { throw APIError(.badRequest, error: "password, reset_password, force_random_password are missing, exactly one parameter must be provided") }
        if let given = password, given.count < 8 { problems["password", default: []].append("is too short (minimum is 8 characters)") }
        guard problems.isEmpty else { throw APIError.validation(problems) }
        if password == nil { password = SecretToken.mint(.personalAccess).value }
        let hash = try await environment.passwords.hash(password!)
        do {
            let user = try await environment.store.users.create(
                NewUser(username: username, name: try parameters.requireString("name"), email: email, passwordHash: hash, isAdmin: try parameters.bool("admin") ?? false))
            return try JSON.response(UserEntity(user, baseURL: baseURL), status: .created)
        } catch StoreError.duplicate(let field) {
            throw APIError(.conflict, message: field == "email" ? "Email has already been taken" : "Username has already been taken")
        }
    }

    @Sendable func createToken(_ request: Request, context: AppRequestContext) async throws -> Response {
        try requireAdmin(context)
        let user = try await user(context)
        let parameters = try await APIParameters.read(request, context: context)
        let name = try parameters.requireString("name")
        guard let scopeNames = try parameters.stringList("scopes"), !scopeNames.isEmpty else { throw APIError.missing("scopes") }
        let scopes = try scopeNames.map { name in
            guard let scope = TokenScope(rawValue: name) else { throw APIError(.badRequest, error: "scopes does not have a valid value") }
            return scope
        }
        // GitLab 16.0+: a token without `expires_at` gets the longest lifetime allowed, and none may outlive it.
        let today = Date()
        let expiresAt =
            try PersonalAccessTokensController.day(parameters, "expires_at")
            ?? PersonalAccessToken.day(today.addingTimeInterval(Double(PersonalAccessTokensController.maximumLifetimeDays) * 86_400))
        try PersonalAccessTokensController.checkLifetime(expiresAt, today: today) { APIError(.unprocessableContent, message: $0) }
        let token = SecretToken.mint(.personalAccess)
        let stored = try await environment.store.personalAccessTokens.create(
            userID: user.id, name: name, description: try parameters.string("description"), digest: environment.digester.digest(token), scopes: scopes,
            expiresAt: expiresAt)
        return try JSON.response(PersonalAccessTokenEntity(stored, token: token), status: .created)
    }

    @Sendable func block(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await setBlocked(true, context: context)
    }

    @Sendable func unblock(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await setBlocked(false, context: context)
    }

    /// GitLab's answers: `true` when the state changed; `null` for blocking a user already blocked and `false` for unblocking one
    /// already active (both 201, nothing changed); 403 for blocking oneself.
    private func setBlocked(_ blocked: Bool, context: AppRequestContext) async throws -> Response {
        try requireAdmin(context)
        let user = try await user(context)
        if blocked, user.id == context.actor.user?.id {
            throw APIError(.forbidden, message: "403 Forbidden - The API initiating user cannot be blocked by the API")
        }
        guard user.isBlocked != blocked else {
            var response = try JSON.response(false, status: .created)
            if blocked { response.body = .init(byteBuffer: ByteBuffer(string: "null")) }
            return response
        }
        try await environment.store.users.setBlocked(userID: user.id, blocked: blocked)
        return try JSON.response(true, status: .created)
    }

    private func user(_ context: AppRequestContext) async throws -> User {
        guard let id = context.parameters.get("user_id", as: Int64.self), let user = try await environment.store.users.find(id: id) else {
            throw APIError.notFound("User")
        }
        return user
    }

    private func requireAdmin(_ context: AppRequestContext) throws {
        try environment.authorizer.authorizeInstanceAdministration(context.actor)
    }
}

extension PersonalAccessTokenEntity {
    init(_ token: PersonalAccessToken, token secret: SecretToken?) {
        self.init(
            id: token.id, name: token.name, revoked: token.revoked, createdAt: token.createdAt, description: token.description, scopes: token.scopes.map(\.rawValue), userId: token.userID,
            lastUsedAt: token.lastUsedAt, active: token.isActive(), expiresAt: token.expiresAt, token: secret?.value)
    }
}
