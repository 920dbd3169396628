import Foundation
import HTTPTypes
import Hummingbird
import JWTKit
import LatchkeyCore
import LatchkeyStore

/// `GET /jwt/auth`: the Docker registry token service. Basic auth with `gitlab-ci-token` + a job token, or a user with a
/// personal access token or password; answers an RS256 JWT granting what AccessPolicy allows on each requested repository.
struct RegistryTokenController {
    let environment: ServerEnvironment
    let keys: JWTKeyCollection
    let keyID: String

    static let issuer = "latchkey"
    static let service = "container_registry"

    init(environment: ServerEnvironment, registryKeys: RegistryKeys) async throws {
        self.environment = environment
        keyID = registryKeys.keyID
        keys = JWTKeyCollection()
        await keys.add(rsa: try Insecure.RSA.PrivateKey(pem: registryKeys.privateKeyPEM), digestAlgorithm: .sha256, kid: JWKIdentifier(string: registryKeys.keyID))
    }

    struct Access: Codable, Sendable, Equatable {
        var type: String
        var name: String
        var actions: [String]
    }

    struct Claims: JWTPayload {
        var iss: IssuerClaim
        var sub: SubjectClaim?
        var aud: AudienceClaim
        var exp: ExpirationClaim
        var nbf: NotBeforeClaim
        var iat: IssuedAtClaim
        var jti: IDClaim
        var access: [Access]

        func verify(using algorithm: some JWTAlgorithm) async throws { try exp.verifyNotExpired() }
    }

    /// How long a registry token lives (GitLab's default `container_registry_token_expire_delay`: 5 minutes).
    static let lifetime: TimeInterval = 300

    @Sendable func token(_ request: Request, context: AppRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        guard query.get("service") == Self.service else { throw APIError(.badRequest, message: "400 Bad request - unknown service") }
        let actor: Actor
        do {
            actor = try await Authenticator(environment: environment).actor(for: request, sources: [.basic, .jobToken, .personalToken], address: context.remoteAddress?.ipAddress)
        } catch Authenticator.Failure.unavailable(let error) {
            throw error
        } catch {
            // GitLab's JwtController answer; the challenge lets registry clients retry with credentials.
            let message = "HTTP Basic: Access denied. If a password was provided for Git authentication, the password was incorrect or you're required to use a token instead of a password. If a token was provided, it was either incorrect, expired, or improperly scoped."
            var response = try APIError(.unauthorized, body: JSON.object(["errors": .array([.object(["code": .string("UNAUTHORIZED"), "message": .string(message)])])]))
                .response(from: request, context: context)
            response.headers[.wwwAuthenticate] = "Basic realm=\"GitLab\""
            return response
        }
        var access: [Access] = []
        for scope in query.getAll("scope") {
            guard let requested = Self.parse(scope) else { continue }
            let actions = try await grantedActions(requested, actor: actor)
            // As GitLab: a scope of which nothing is granted is left out, and the registry then refuses that repository.
            if !actions.isEmpty { access.append(Access(type: "repository", name: requested.name, actions: actions)) }
        }
        // docker/distribution reads `exp`, `nbf` and `iat` as integers and refuses a token whose times have fractions.
        let now = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        // GitLab's subject is the user's username, for a job token too (the user the job runs as).
        let claims = Claims(
            iss: .init(value: Self.issuer), sub: actor.user.map { .init(value: $0.username) }, aud: .init(value: [Self.service]),
            exp: .init(value: now.addingTimeInterval(Self.lifetime)), nbf: .init(value: now.addingTimeInterval(-5)), iat: .init(value: now),
            jti: .init(value: UUID().uuidString), access: access)
        let jwt = try await keys.sign(claims, kid: JWKIdentifier(string: keyID))
        return try JSON.response(["token": jwt])
    }

    /// `repository:ns/project:pull,push` → the project path (image paths below the project map to it) and the actions.
    static func parse(_ scope: String) -> (name: String, project: String, actions: [String])? {
        let parts = scope.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "repository", !parts[1].isEmpty else { return nil }
        let name = String(parts[1])
        return (name, name, parts[2].split(separator: ",").map(String.init))
    }

    /// The requested actions the actor may perform: `pull` needs readContainerImage, `push` createContainerImage (a job
    /// token pushes only to its own project), asked of AccessPolicy for the project the image belongs to.
    private func grantedActions(_ requested: (name: String, project: String, actions: [String]), actor: Actor) async throws -> [String] {
        guard let project = try await projectOwning(image: requested.project) else { return [] }
        let facts = try await environment.authorizer.facts(for: project, actor: actor)
        var granted: [String] = []
        for action in requested.actions {
            let ability: ProjectAbility
            switch action {
            case "pull": ability = .readContainerImage
            case "push": ability = .createContainerImage
            case "*", "delete": ability = .adminProject
            default: continue
            }
            if await environment.authorizer.decide(actor, ability, facts).isAllowed { granted.append(action) }
        }
        return granted
    }

    /// Images live at the project path or below it (`ns/project/image`): the longest path that is a project owns it.
    private func projectOwning(image: String) async throws -> Project? {
        var components = image.split(separator: "/").map(String.init)
        while !components.isEmpty {
            if let project = try await environment.store.projects.find(fullPath: components.joined(separator: "/")) { return project }
            components.removeLast()
        }
        return nil
    }
}
