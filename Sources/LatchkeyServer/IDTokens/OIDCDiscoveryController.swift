import Foundation
import Hummingbird

/// `GET /.well-known/openid-configuration` and `GET /oauth/discovery/keys`: what an OIDC relying party (Vault, AWS, PyJWT's
/// `PyJWKClient`) needs to verify a job's ID token offline.
///
/// The JWKS also carries the job-token keys (current and retired, each under its own `kid`), so an outside service can check a
/// job token offline; their tokens name another issuer (the host) and audience (`gitlab-authz-token`), so an ID-token relying party
/// that checks either never takes a job token for an ID token.
struct OIDCDiscoveryController {
    let issuer: String
    let keys: IDTokenKeys
    var jobTokenKeys: JobTokenKeys? = nil

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get(".well-known/openid-configuration", use: configuration)
        routes.get("oauth/discovery/keys", use: keys)
        routes.get("-/jwks", use: keys)
        return routes
    }

    private struct Configuration: Encodable {
        var issuer: String
        var jwksUri: String
        var responseTypesSupported = ["id_token"]
        var subjectTypesSupported = ["public", "pairwise"]
        var idTokenSigningAlgValuesSupported = ["RS256"]
        var scopesSupported = ["openid"]
        var claimsSupported = [
            "iss", "sub", "aud", "exp", "iat", "nbf", "jti", "namespace_id", "namespace_path", "project_id", "project_path", "user_id", "user_login",
            "user_email", "user_access_level", "pipeline_id", "pipeline_source", "job_id", "ref", "ref_type", "ref_path", "ref_protected", "runner_id",
            "runner_environment", "sha", "project_visibility", "ci_config_ref_uri", "ci_config_sha",
        ]
    }

    @Sendable func configuration(_ request: Request, context: AppRequestContext) async throws -> Response {
        try JSON.response(Configuration(issuer: issuer, jwksUri: issuer + "/oauth/discovery/keys"))
    }

    @Sendable func keys(_ request: Request, context: AppRequestContext) async throws -> Response {
        let jobTokenKeys = try await jobTokenKeys?.publicKeys() ?? []
        return try JSON.response(["keys": (try await keys.signer().jwks["keys"] ?? []) + jobTokenKeys])
    }
}
