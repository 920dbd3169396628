import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// Runner registration: `POST /runners`, `POST /runners/verify`, `DELETE /runners`, `DELETE /runners/managers`,
/// `POST /runners/reset_authentication_token`.
struct RunnersController {
    let environment: ServerEnvironment
    let registration: RegistrationToken

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.post("runners", use: register)
        routes.post("runners/verify", use: verify)
        routes.delete("runners", use: unregister)
        routes.delete("runners/managers", use: unregisterManager)
        routes.post("runners/reset_authentication_token", use: resetToken)
        return routes
    }

    private struct RegisteredRunner: Encodable {
        var id: Int64
        var token: String
        @Nullable var tokenExpiresAt: String?
    }

    @Sendable func register(_ request: Request, context: AppRequestContext) async throws -> Response {
        let parameters = try await APIParameters.read(request, context: context)
        let token = try parameters.requireString("token")
        guard await registration.matches(token) else { throw APIError.forbidden }
        let tags = try parameters.stringList("tag_list") ?? []
        let created = try await RunnerCreation.create(
            in: environment, description: try parameters.string("description") ?? "", tags: tags,
            runUntagged: try parameters.bool("run_untagged") ?? tags.isEmpty, locked: try parameters.bool("locked") ?? false,
            version: (parameters["info"].flatMap { if case .object(let info) = $0, case .string(let version)? = info["version"] { version } else { nil } }) ?? "")
        return try JSON.response(RegisteredRunner(id: created.runner.id, token: created.token, tokenExpiresAt: nil), status: .created)
    }

    /// What `gitlab-runner unregister` sends for a `glrt-` token: GitLab removes only the runner manager (this host's
    /// `system_id`) and keeps the runner. Latchkey keeps no managers apart from their runner, so the runner stays too.
    @Sendable func unregisterManager(_ request: Request, context: AppRequestContext) async throws -> Response {
        let parameters = try await APIParameters.read(request, context: context)
        let token = try parameters.requireString("token")
        _ = try parameters.string("system_id")
        guard try await Authenticator(environment: environment).runner(token: token) != nil else { throw APIError.forbidden }
        return Response(status: .noContent)
    }

    /// A new token for the runner presenting its current one; the old one stops working at once.
    @Sendable func resetToken(_ request: Request, context: AppRequestContext) async throws -> Response {
        let parameters = try await APIParameters.read(request, context: context)
        let token = try parameters.requireString("token")
        guard let runner = try await Authenticator(environment: environment).runner(token: token) else { throw APIError.forbidden }
        let nonce = SecretToken.nonce()
        let secret = environment.digester.derive(.runner, nonce: nonce)
        try await environment.store.runners.replaceToken(id: runner.id, tokenDigest: environment.digester.digest(secret), tokenNonce: nonce)
        return try JSON.response(ResetToken(token: secret.value, tokenExpiresAt: nil), status: .created)
    }

    private struct ResetToken: Encodable {
        var token: String
        @Nullable var tokenExpiresAt: String?
    }

    @Sendable func verify(_ request: Request, context: AppRequestContext) async throws -> Response {
        let parameters = try await APIParameters.read(request, context: context)
        let token = try parameters.requireString("token")
        guard let runner = try await Authenticator(environment: environment).runner(token: token) else { throw APIError.forbidden }
        return try JSON.response(RegisteredRunner(id: runner.id, token: token, tokenExpiresAt: nil))
    }

    @Sendable func unregister(_ request: Request, context: AppRequestContext) async throws -> Response {
        let parameters = try await APIParameters.read(request, context: context)
        let token = try parameters.requireString("token")
        guard let runner = try await Authenticator(environment: environment).runner(token: token) else { throw APIError.forbidden }
        try await environment.store.runners.delete(id: runner.id)
        return JSON.empty()
    }
}

extension SecretToken {
    static func nonce() -> String { TokenDigester.nonce() }
}

/// Makes a runner and its `glrt-` token (derived from a fresh nonce, so only its digest and nonce are stored).
enum RunnerCreation {
    static func create(
        in environment: ServerEnvironment, description: String, tags: [String], runUntagged: Bool, locked: Bool, version: String
    ) async throws -> (runner: Runner, token: String) {
        let nonce = SecretToken.nonce()
        let secret = environment.digester.derive(.runner, nonce: nonce)
        let runner = try await environment.store.runners.create(
            description: description, tokenDigest: environment.digester.digest(secret), tokenNonce: nonce, tags: tags, runUntagged: runUntagged,
            locked: locked, embedded: false, version: version)
        return (runner, secret.value)
    }
}
