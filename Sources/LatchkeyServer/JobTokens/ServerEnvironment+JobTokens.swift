import Foundation
import LatchkeyCore
import LatchkeyStore

/// A presented job token that may be looked up: its digest, and for a JWT the job its verified `sub` names.
struct PresentedJobToken: Sendable {
    let digest: String
    /// The job a verified JWT names; nil for an opaque token.
    let jobID: Int64?

    /// Whether `job` (found by the digest) is the one the token names; a JWT must name the job whose token it is.
    func names(_ job: Job) -> Bool { jobID.map { $0 == job.id } ?? true }
}

/// Minting, finding and re-reading job tokens, opaque or signed (`JobTokenFormat`).
extension ServerEnvironment {
    /// Seals a running job's JWT for the database, under a key of its own derived from the server secret.
    var jobTokenSealer: SecretSealer { digester.sealer(purpose: "latchkey-job-tokens-v1") }

    /// What a claim stores for a new job: its nonce and the digest lookups will first find. For a JWT the digest is a placeholder no
    /// presented token can match (it digests no `glcbt-` text) until `issueJobToken` replaces it.
    func jobTokenClaim() -> (nonce: String, digest: String) {
        let nonce = TokenDigester.nonce()
        if settings.jobTokenFormat.mintsJWT { return (nonce, digester.digest("latchkey-unissued-job-token:" + nonce)) }
        return (nonce, digester.digest(digester.derive(.jobToken, nonce: nonce)))
    }

    /// The token handed to the runner for a job just claimed with `nonce`; nil when the job is no longer that claim.
    func issueJobToken(for job: Job, project: Project, nonce: String) async throws -> SecretToken? {
        guard settings.jobTokenFormat.mintsJWT else { return digester.derive(.jobToken, nonce: nonce) }
        let claims = JobTokenClaims.make(job: job, project: project, userID: job.userID, host: jobTokenIssuer, timeout: job.definition.timeoutSeconds ?? 3600)
        let token = SecretToken(try await jobTokenKeys.sign(claims))
        let issued = try await store.jobs.issueSignedToken(
            jobID: job.id, nonce: nonce, tokenDigest: digester.digest(token), sealed: try jobTokenSealer.seal(token.value))
        return issued ? token : nil
    }

    /// GitLab's `iss` of a job token: the instance's host (`Settings.gitlab.host`), without scheme or port.
    var jobTokenIssuer: String { URL(string: settings.baseURL)?.host ?? settings.host }

    /// A running job's live token, to mask it in the job's trace: its sealed JWT, or the opaque token derived from its nonce.
    func liveJobToken(jobID: Int64) async throws -> String? {
        if let sealed = try await store.jobs.sealedSignedToken(jobID: jobID) { return try jobTokenSealer.open(sealed) }
        return try await store.jobs.tokenNonce(jobID: jobID).map { digester.derive(.jobToken, nonce: $0).value }
    }

    /// What to look a presented job token up by, or nil when it is refused before the database: not a job token's shape, an
    /// opaque token while only JWTs are accepted, or a JWT whose signature or claims do not hold (checked first, so a forged
    /// token costs no query).
    func presentedJobToken(_ value: String) async -> PresentedJobToken? {
        switch JobTokenShape.of(value) {
        case nil:
            return nil
        case .opaque:
            return settings.jobTokenFormat.acceptsOpaque ? PresentedJobToken(digest: digester.digest(value), jobID: nil) : nil
        case .jwt(let jws):
            guard let claims = await jobTokenKeys.verify(jws), let jobID = claims.jobID else { return nil }
            return PresentedJobToken(digest: digester.digest(value), jobID: jobID)
        }
    }
}
