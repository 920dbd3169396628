import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// `/personal_access_tokens`: list, show, revoke and rotate tokens, each decided by `AccessPolicy`.
struct PersonalAccessTokensController {
    let environment: ServerEnvironment

    /// How long a rotated token lives when the caller names no `expires_at` (GitLab's `RotateService::EXPIRATION_PERIOD`).
    static let rotationLifetimeDays = 7
    /// The longest lifetime a new token may have, and a new token's lifetime when none is given (GitLab 16.0+).
    static let maximumLifetimeDays = 365

    /// The routes that name a token by id; they need `api` (`read_api` for reads) like the rest of the API.
    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("personal_access_tokens", use: list)
        routes.get("personal_access_tokens/:id", use: show)
        routes.delete("personal_access_tokens/:id", use: revoke)
        routes.post("personal_access_tokens/:id/rotate", use: rotate)
        return routes
    }

    /// The routes that act on the presented token itself; they sit behind `AuthenticationMiddleware(scopeRule: .ownToken)`.
    var selfEndpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("personal_access_tokens/self", use: showSelf)
        routes.delete("personal_access_tokens/self", use: revokeSelf)
        routes.post("personal_access_tokens/self/rotate", use: rotateSelf)
        return routes
    }

    /// GitLab filters Latchkey does not implement.
    private static let unsupportedListParameters: Set<String> = ["sort"]

    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let parameters = try await APIParameters.read(request, context: context)
        for name in Self.unsupportedListParameters where parameters.has(name) {
            throw APIError(.badRequest, error: "\(name) is not supported by this server")
        }
        var filter = PersonalAccessTokenFilter()
        let named = try parameters.int("user_id")
        if case .denied(let denial) = AccessPolicy.mayListPersonalAccessTokens(context.actor, of: named) {
            throw APIError.personalAccessTokens(denial, on: .list)
        }
        if AccessPolicy.mayAdministerInstance(context.actor).isAllowed {
            // An administrator naming no user, or one that does not exist, is told so (GitLab: 404 even for `user_id=`).
            if parameters.has("user_id") {
                guard let named, try await environment.store.users.find(id: named) != nil else { throw APIError(.notFound, message: "404 Not Found") }
                filter.userID = named
            }
        } else {
            filter.userID = context.actor.user?.id
        }
        filter.revoked = try parameters.bool("revoked")
        filter.state = try parameters.enumeration("state", PersonalAccessTokenFilter.State.self)
        filter.search = try parameters.string("search")
        filter.createdBefore = try Self.timestamp(parameters, "created_before")
        filter.createdAfter = try Self.timestamp(parameters, "created_after")
        filter.lastUsedBefore = try Self.timestamp(parameters, "last_used_before")
        filter.lastUsedAfter = try Self.timestamp(parameters, "last_used_after")
        filter.expiresBefore = try Self.day(parameters, "expires_before")
        filter.expiresAfter = try Self.day(parameters, "expires_after")
        let page = try await environment.store.personalAccessTokens.list(filter, today: PersonalAccessToken.day(Date()), page: PageRequest(parameters))
        return try page.map { PersonalAccessTokenEntity($0, token: nil) }.response(for: request, baseURL: environment.settings.baseURL)
    }

    @Sendable func show(_ request: Request, context: AppRequestContext) async throws -> Response {
        let token = try await token(context)
        if case .denied(let denial) = AccessPolicy.decide(context.actor, .read, tokenOwner: token?.userID) {
            throw APIError.personalAccessTokens(denial, on: .show)
        }
        guard let token else { throw APIError(.notFound, message: "404 Not Found") }
        return try JSON.response(PersonalAccessTokenEntity(token, token: nil))
    }

    @Sendable func revoke(_ request: Request, context: AppRequestContext) async throws -> Response {
        // GitLab finds the token before it asks (`PersonalAccessToken.find`), so a missing one is 404 for everyone here.
        guard let token = try await token(context) else { throw APIError(.notFound, message: "404 Not found") }
        if case .denied(let denial) = AccessPolicy.decide(context.actor, .manage, tokenOwner: token.userID) {
            throw APIError.personalAccessTokens(denial, on: .revoke)
        }
        try await environment.store.personalAccessTokens.revoke(id: token.id)
        return JSON.empty()
    }

    @Sendable func rotate(_ request: Request, context: AppRequestContext) async throws -> Response {
        let parameters = try await APIParameters.read(request, context: context)
        let token = try await token(context)
        if case .denied(let denial) = AccessPolicy.decide(context.actor, .manage, tokenOwner: token?.userID) {
            throw APIError.personalAccessTokens(denial, on: .rotate)
        }
        guard let token else { throw APIError(.notFound, message: "404 Not Found") }
        return try await rotated(token, parameters: parameters)
    }

    @Sendable func showSelf(_ request: Request, context: AppRequestContext) async throws -> Response {
        try JSON.response(PersonalAccessTokenEntity(try await presentedToken(context), token: nil))
    }

    @Sendable func revokeSelf(_ request: Request, context: AppRequestContext) async throws -> Response {
        let token = try await presentedToken(context)
        try await environment.store.personalAccessTokens.revoke(id: token.id)
        return JSON.empty()
    }

    @Sendable func rotateSelf(_ request: Request, context: AppRequestContext) async throws -> Response {
        let parameters = try await APIParameters.read(request, context: context)
        return try await rotated(try await presentedToken(context), parameters: parameters)
    }

    /// Revokes `token` and answers its successor with the new secret (GitLab's `PersonalAccessTokenWithToken`, 200).
    private func rotated(_ token: PersonalAccessToken, parameters: APIParameters) async throws -> Response {
        let expiresAt = try Self.rotationExpiry(parameters, defaultDays: Self.rotationLifetimeDays)
        let secret = SecretToken.mint(.personalAccess)
        guard
            let successor = try await environment.store.personalAccessTokens.rotate(
                id: token.id, digest: environment.digester.digest(secret), expiresAt: expiresAt)
        else { throw APIError(.badRequest, message: "400 Bad request - Token already revoked") }
        // A project or group access token rotating itself: its bot's membership lives as long as the new token, as when an
        // owner rotates it (otherwise the membership would lapse on the old date and the new token would reach nothing).
        if let source = try await environment.store.resourceAccessTokens.botSource(userID: successor.userID) {
            try await environment.store.resourceAccessTokens.extendMembership(source, botID: successor.userID, expiresAt: expiresAt)
        }
        return try JSON.response(PersonalAccessTokenEntity(successor, token: secret))
    }

    /// A rotated token's `expires_at`: the one given (within the maximum lifetime, else 400) or `defaultDays` from today.
    static func rotationExpiry(_ parameters: APIParameters, defaultDays: Int) throws -> String {
        let today = Date()
        guard let given = try day(parameters, "expires_at") else {
            return PersonalAccessToken.day(today.addingTimeInterval(Double(defaultDays) * 86_400))
        }
        try checkLifetime(given, today: today) { APIError(.badRequest, message: "400 Bad request - \($0)") }
        return given
    }

    /// Refuses an expiry past GitLab's maximum lifetime, with the model's message ("Expires at must be before YYYY-MM-DD").
    static func checkLifetime(_ day: String, today: Date, error: (String) -> APIError) throws {
        let latest = PersonalAccessToken.day(today.addingTimeInterval(Double(maximumLifetimeDays) * 86_400))
        if day > latest { throw error("Expires at must be before \(latest)") }
    }

    /// The token the request presented (for `/self`); sudo keeps the administrator's token, as GitLab's `access_token`.
    private func presentedToken(_ context: AppRequestContext) async throws -> PersonalAccessToken {
        guard case .user(let user) = context.actor, let id = user.tokenID else { throw APIError.unauthorized }
        // Authentication found it active a moment ago; a concurrent revocation is answered as the next request would be.
        guard let token = try await environment.store.personalAccessTokens.find(id: id), token.isActive() else { throw APIError.unauthorized }
        return token
    }

    private func token(_ context: AppRequestContext) async throws -> PersonalAccessToken? {
        guard let id = context.parameters.get("id", as: Int64.self) else { return nil }
        return try await environment.store.personalAccessTokens.find(id: id)
    }

    private static func timestamp(_ parameters: APIParameters, _ name: String) throws -> Date? {
        guard let text = try parameters.string(name), !text.isEmpty else { return nil }
        guard let date = TimestampParameter.parse(text) else { throw APIError.invalid(name) }
        return date
    }

    /// A `YYYY-MM-DD` parameter (Grape's `Date`): a date-time is cut to its day, anything else is invalid.
    static func day(_ parameters: APIParameters, _ name: String) throws -> String? {
        guard let text = try parameters.string(name), !text.isEmpty else { return nil }
        // A successful parse starts with the `YYYY-MM-DD` day.
        guard TimestampParameter.parse(text) != nil else { throw APIError.invalid(name) }
        return String(text.prefix(10))
    }
}

/// The personal access token routes GitLab answers differently when it refuses.
enum PersonalAccessTokenRoute: Sendable { case list, show, revoke, rotate }

extension APIError {
    /// How GitLab answers a refusal on a personal access token route: someone else's token is 401 when listed, shown or rotated, and 400
    /// when revoked (`RevokeService` fails); a token only an administrator may know is missing is 404.
    static func personalAccessTokens(_ denial: Denial, on route: PersonalAccessTokenRoute) -> APIError {
        switch denial {
        case .insufficientRole: route == .revoke ? APIError(.badRequest, message: "400 Bad request") : .unauthorized
        case .notFound: APIError(.notFound, message: route == .revoke ? "404 Not found" : "404 Not Found")
        default: .from(denial)
        }
    }
}
