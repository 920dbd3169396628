import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// Runner registration: `POST /runners`, `POST /runners/verify`, `DELETE /runners`.
struct RunnersController {
    let environment: ServerEnvironment
    let registration: RegistrationToken

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.post("runners", use: register)
        routes.post("runners/verify", use: verify)
        routes.delete("runners", use: unregister)
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
        guard registration.matches(token) else { throw APIError.forbidden }
        let tags = try parameters.stringList("tag_list") ?? []
        let runnerToken = SecretToken.nonce()
        let secret = environment.digester.derive(.runner, nonce: runnerToken)
        let runner = try await environment.store.runners.create(
            description: try parameters.string("description") ?? "", tokenDigest: environment.digester.digest(secret), tokenNonce: runnerToken, tags: tags,
            runUntagged: try parameters.bool("run_untagged") ?? tags.isEmpty, locked: try parameters.bool("locked") ?? false, embedded: false,
            version: (parameters["info"].flatMap { if case .object(let info) = $0, case .string(let version)? = info["version"] { version } else { nil } }) ?? "")
        return try JSON.response(RegisteredRunner(id: runner.id, token: secret.value, tokenExpiresAt: nil), status: .created)
    }

    @Sendable func verify(_ request: Request, context: AppRequestContext) async throws -> Response {
        let parameters = try await APIParameters.read(request, context: context)
        let token = try parameters.requireString("token")
        guard let runner = try await environment.runner(token: token) else { throw APIError.forbidden }
        return try JSON.response(RegisteredRunner(id: runner.id, token: token, tokenExpiresAt: nil))
    }

    @Sendable func unregister(_ request: Request, context: AppRequestContext) async throws -> Response {
        let parameters = try await APIParameters.read(request, context: context)
        let token = try parameters.requireString("token")
        guard let runner = try await environment.runner(token: token) else { throw APIError.forbidden }
        try await environment.store.runners.delete(id: runner.id)
        return JSON.empty()
    }
}

extension SecretToken {
    static func nonce() -> String { TokenDigester.nonce() }
}

extension ServerEnvironment {
    /// The runner presenting this `glrt-` token, if it exists and is active.
    func runner(token: String) async throws -> Runner? {
        guard TokenKind.of(token) == .runner, token.count < 256 else { return nil }
        guard let runner = try await store.runners.find(tokenDigest: digester.digest(token)), runner.active else { return nil }
        return runner
    }
}
