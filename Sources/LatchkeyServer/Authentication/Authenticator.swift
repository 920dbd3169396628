import Foundation
import HTTPTypes
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// Turns the credentials a request carries into an `Actor`; the only code that reads tokens off requests.
public struct Authenticator: Sendable {
    let environment: ServerEnvironment

    /// Where credentials may come from on this route.
    public struct Sources: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        /// `PRIVATE-TOKEN`, `private_token=`, `Authorization: Bearer`.
        public static let personalToken = Sources(rawValue: 1)
        /// HTTP Basic with a token or the user's password as the password (git).
        public static let basic = Sources(rawValue: 2)
        /// `JOB-TOKEN`, `job_token=`, `Authorization: Bearer glcbt-…`, and Basic `gitlab-ci-token` with `.basic`.
        public static let jobToken = Sources(rawValue: 4)
        public static let api: Sources = [.personalToken]
        /// Routes that also accept a running job's token.
        public static let apiWithJobToken: Sources = [.personalToken, .jobToken]
        public static let git: Sources = [.personalToken, .basic, .jobToken]
    }

    /// Why credentials gave no actor.
    public enum Failure: Error {
        /// They are wrong, expired or revoked, or their user is blocked: 401, and the client should drop them.
        case denied(Denial)
        /// Their lookup failed because the database did not answer (down, no free connection, locked), so they were never checked:
        /// a 401 would make clients throw a good token away. Only the lookup's own failure counts, never a probe of the database
        /// (under load a probe answered 503 to tokens that were simply wrong).
        case unavailable(any Error)

        /// What a route throws: GitLab's 401 for a refusal; for credentials never checked, the database's own error, which
        /// `ErrorMiddleware` answers 503 with `Retry-After`, the one place every unavailable database is rendered.
        public var routeError: any Error {
            switch self {
            case .denied(let denial): APIError.from(denial)
            case .unavailable(let error): error
            }
        }

        /// A lookup that threw: unchecked when the database did not answer, else refused (a corrupt row never lets anyone in).
        static func lookup(_ error: any Error) -> Failure {
            if let failure = error as? Failure { return failure }
            if let denial = error as? Denial { return .denied(denial) }
            return error.isDatabaseUnavailable ? .unavailable(error) : .denied(.unauthenticated)
        }
    }

    /// The actor, or `denied(.unauthenticated)` when credentials are present but wrong (GitLab answers 401 even on public routes
    /// then), or `unavailable` when the database could not check them. `address` is the client's, for the per-address limit on
    /// failed passwords.
    public func actor(for request: Request, sources: Sources, address: String? = nil) async throws(Failure) -> Actor {
        if sources.contains(.jobToken) {
            if let token = request.headers[HTTPField.Name("JOB-TOKEN")!] ?? request.uri.queryParameters.get("job_token") {
                return try await jobActor(token)
            }
            if let authorization = request.headers[.authorization], authorization.lowercased().hasPrefix("bearer ") {
                let token = String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces)
                if TokenKind.of(token) == .jobToken { return try await jobActor(token) }
            }
            if sources.contains(.basic), let (username, password) = Self.basicCredentials(request), username == "gitlab-ci-token" {
                return try await jobActor(password)
            }
        }
        if sources.contains(.personalToken) {
            if let token = request.headers[HTTPField.Name("PRIVATE-TOKEN")!] ?? request.uri.queryParameters.get("private_token") {
                return try await personalToken(token)
            }
            if let authorization = request.headers[.authorization], authorization.lowercased().hasPrefix("bearer ") {
                let token = String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces)
                // A job token where job tokens are not accepted is ignored, as GitLab does.
                if TokenKind.of(token) == .jobToken { return .anonymous }
                return try await personalToken(token)
            }
        }
        if sources.contains(.basic), let (username, password) = Self.basicCredentials(request) {
            if TokenKind.of(password) == .personalAccess { return try await personalToken(password) }
            return try await passwordLogin(username: username, password: password, address: address)
        }
        return .anonymous
    }

    /// The user named by `Sudo` (header) or `sudo` (query), if the request names one.
    static func sudoIdentifier(_ request: Request) -> String? {
        request.headers[HTTPField.Name("Sudo")!] ?? request.uri.queryParameters.get("sudo").map { String($0) }
    }

    /// The actor a request acts as once its `Sudo` is applied: the named user, with the administrator's token scopes.
    /// Refused as GitLab does: 401 without credentials, 403 for anyone but an administrator's token with the `sudo` scope
    /// (a job token included), 404 for an unknown user. Never ignored.
    func applyingSudo(_ identifier: String, to actor: Actor, request: Request) async throws -> Actor {
        var asker = actor
        if case .anonymous = asker {
            do throws(Failure) {
                asker = try await self.actor(for: request, sources: .jobToken)
            } catch {
                guard case .denied = error else { throw error.routeError }
            }
        }
        switch AccessPolicy.maySudo(asker) {
        case .allowed:
            break
        case .denied(.insufficientScope):
            throw APIError(
                .forbidden,
                body: JSON.object([
                    "error": .string("insufficient_scope"),
                    "error_description": .string("The request requires higher privileges than provided by the access token."),
                    "scope": .string("sudo"),
                ]))
        case .denied(.insufficientRole):
            if AccessPolicy.sudoNeedsPersonalAccessToken(asker) {
                throw APIError(.forbidden, message: "403 Forbidden - Must be authenticated using an OAuth or Personal Access Token to use sudo")
            }
            throw APIError(.forbidden, message: "403 Forbidden - Must be admin to use sudo")
        case .denied(let denial):
            throw APIError.from(denial)
        }
        guard case .user(let administrator) = asker else { throw APIError.unauthorized }
        let trimmed = identifier.trimmingCharacters(in: .whitespaces)
        let found: User?
        if !trimmed.isEmpty, trimmed.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let id = Int64(trimmed) {
            found = try await environment.store.users.find(id: id)
        } else if !trimmed.isEmpty, trimmed.count <= 255 {
            found = try await environment.store.users.find(username: trimmed)
        } else {
            found = nil
        }
        guard let user = found else {
            throw APIError(.notFound, message: "404 User with ID or username '\(identifier.prefix(255))' Not Found")
        }
        // The token stays the administrator's: `/personal_access_tokens/self` names it, as GitLab's `access_token`.
        return .user(UserActor(user: user, scopes: administrator.scopes, tokenID: administrator.tokenID))
    }

    static func basicCredentials(_ request: Request) -> (String, String)? {
        guard let authorization = request.headers[.authorization], authorization.lowercased().hasPrefix("basic "),
            let data = Data(base64Encoded: String(authorization.dropFirst(6)).trimmingCharacters(in: .whitespaces))
        else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        guard let colon = text.firstIndex(of: ":") else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }

    /// The running job whose token this is, or nil when the token is refused; throws (the route's 503) only when the database
    /// could not check it.
    public func acceptedJob(_ value: String) async throws -> JobActor? {
        do throws(Failure) {
            guard case .job(let job) = try await jobActor(value) else { return nil }
            return job
        } catch {
            guard case .denied = error else { throw error.routeError }
            return nil
        }
    }

    /// The running job whose token this is; a finished job's token is dead at once.
    public func jobActor(_ value: String) async throws(Failure) -> Actor {
        // The shape, and a JWT's signature and claims, are checked before any query; the database then says whether the job runs.
        guard let presented = await environment.presentedJobToken(value) else { throw .denied(.unauthenticated) }
        do {
            guard let (job, project, user) = try await environment.store.jobs.findWithProjectAndUser(tokenDigest: presented.digest),
                presented.names(job), !user.isBlocked
            else { throw Denial.unauthenticated }
            return .job(JobActor(job: job, project: project, user: user))
        } catch {
            throw .lookup(error)
        }
    }

    private func personalToken(_ value: String) async throws(Failure) -> Actor {
        guard TokenKind.of(value) == .personalAccess || TokenKind.of(value) == nil, !value.isEmpty, value.count < 512 else {
            throw .denied(.unauthenticated)
        }
        let found: (PersonalAccessToken, User)?
        do { found = try await environment.store.personalAccessTokens.find(digest: environment.digester.digest(value)) } catch { throw .lookup(error) }
        guard let (token, user) = found, token.isActive(), !user.isBlocked else { throw .denied(.unauthenticated) }
        // `last_used_at` is bookkeeping: a failure to record it must not refuse a valid token.
        try? await environment.store.personalAccessTokens.markUsed(id: token.id)
        return .user(UserActor(user: user, scopes: Set(token.scopes), tokenID: token.id))
    }

    private func passwordLogin(username: String, password: String, address: String?) async throws(Failure) -> Actor {
        do {
            // A slot is taken before the password is checked; past GitLab's limit the password is not even looked at.
            let throttle = FailedAttemptThrottle(store: environment.store)
            guard let slot = try await throttle.attempt(account: username, address: address, rule: .basic) else { throw Denial.unauthenticated }
            guard let (user, hash) = try await environment.store.users.credentials(username: username), let hash, !user.isBlocked,
                try await environment.passwords.verify(password, hash: hash)
            else { throw Denial.unauthenticated }
            try await throttle.succeeded(slot)
            return .user(UserActor(user: user, scopes: nil))
        } catch {
            throw .lookup(error)
        }
    }
}

/// Resolves the actor of every API request before its route runs.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let authenticator: Authenticator
    /// Which scopes the credential needs on these routes.
    var scopeRule: ScopeRule = .api

    enum ScopeRule: Sendable {
        /// `api`, or `read_api` for reads.
        case api
        /// The routes that act on the presented token itself (`/personal_access_tokens/self`): any scope reads and revokes, rotation
        /// (`POST`) needs `api` or `self_rotate`.
        case ownToken
    }

    func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws -> Response {
        var context = context
        do throws(Authenticator.Failure) {
            context.actor = try await authenticator.actor(for: request, sources: .api)
        } catch {
            throw error.routeError
        }
        if let identifier = Authenticator.sudoIdentifier(request) {
            context.actor = try await authenticator.applyingSudo(identifier, to: context.actor, request: request)
        }
        if case .user(let user) = context.actor {
            let write = ![.get, .head, .options].contains(request.method)
            let decision =
                switch scopeRule {
                case .api: AccessPolicy.mayUseAPI(user, write: write)
                case .ownToken: AccessPolicy.mayUseOwnToken(user, rotate: request.method == .post)
                }
            if case .denied(let denial) = decision { throw APIError.from(denial) }
        }
        return try await next(request, context)
    }
}

/// Answers 401 to an anonymous request before its route looks anything up, as GitLab's `before { authenticate! }`; with
/// `writesOnly`, only for methods that change state (`authenticate_non_get!`).
struct AuthenticationRequiredMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    var writesOnly = false

    func handle(_ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response) async throws -> Response {
        let applies = !writesOnly || ![.get, .head, .options].contains(request.method)
        if case .denied(let denial) = AccessPolicy.mayCall(context.actor, authenticatedOnly: applies) { throw APIError.from(denial) }
        return try await next(request, context)
    }
}
