import Foundation
import JWTKit
import LatchkeyCore

/// The claims of a signed job token, as GitLab's `Ci::JobToken::Jwt` (through `Authn::Tokens::Jwt` and `JSONWebToken::Token`).
///
/// GitLab's routable-token claims `u`, `p` and `g` (user, project and the project's group, base 36) are carried; `c` (cell) and
/// `o` (organization) are not, as Latchkey has neither, and `scoped_user_id` neither (no composite identities).
struct JobTokenClaims: JWTPayload, Equatable {
    static let audience = "gitlab-authz-token"
    static let version = "0.1.0"
    /// GitLab's `LEEWAY`: a job that timed out may still send its final state and trace.
    static let leeway = 300
    /// `JSONWebToken::Token::DEFAULT_EXPIRE_TIME`, the shortest life before the leeway.
    static let shortestLife = 60
    static let subjectPrefix = "gid://gitlab/Ci::Build/"

    var jti: IDClaim
    var aud: AudienceClaim
    var sub: SubjectClaim
    var iss: IssuerClaim
    var iat: IssuedAtClaim
    var nbf: NotBeforeClaim
    var exp: ExpirationClaim
    var version: String
    var u: String?
    var p: String?
    var g: String?

    /// The job this token names, when `sub` is GitLab's global id of a build.
    var jobID: Int64? {
        guard sub.value.hasPrefix(Self.subjectPrefix) else { return nil }
        let digits = sub.value.dropFirst(Self.subjectPrefix.count)
        guard !digits.isEmpty, digits.count <= 18, digits.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        return Int64(digits)
    }

    /// Checked after the signature: audience, version, subject, and the time window. The job itself is checked in the database.
    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
        // GitLab gives 5 s for clock shift in `nbf`; a token minted by another instance may reach here a moment early.
        try nbf.verifyNotBefore(currentDate: Date().addingTimeInterval(5))
        try aud.verifyIntendedAudience(includes: Self.audience)
        guard aud.value == [Self.audience], version == Self.version, jobID != nil else {
            throw JWTError.claimVerificationFailure(failedClaim: sub, reason: "not a job token")
        }
    }

    /// GitLab's claims for `job` of `project`, run by `userID`, issued by `host`, valid for max(60 s, `timeout`) + 5 min.
    static func make(job: Job, project: Project, userID: Int64?, host: String, timeout: Int, now: Date = Date()) -> JobTokenClaims {
        let issued = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        let life = max(shortestLife, timeout) + leeway
        return JobTokenClaims(
            jti: .init(value: UUID().uuidString.lowercased()), aud: .init(value: [audience]), sub: .init(value: subjectPrefix + String(job.id)),
            iss: .init(value: host), iat: .init(value: issued), nbf: .init(value: issued.addingTimeInterval(-5)),
            exp: .init(value: issued.addingTimeInterval(TimeInterval(life))), version: version, u: userID.map { String($0, radix: 36) },
            p: String(project.id, radix: 36), g: project.namespace.groupID.map { String($0, radix: 36) })
    }

    /// The longest a job token lives: the longest job timeout `.gitlab-ci.yml` allows, plus the leeway.
    static let longestLife = 2_629_746 + leeway
}
