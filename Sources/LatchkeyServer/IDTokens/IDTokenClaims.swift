import Foundation
import JWTKit
import LatchkeyCore

/// The claims of a job's OIDC ID token, named and shaped as GitLab's (`Gitlab::Ci::JwtV2`).
struct IDTokenClaims: JWTPayload {
    var iss: IssuerClaim
    var sub: SubjectClaim
    var aud: AudienceClaim
    var exp: ExpirationClaim
    var nbf: NotBeforeClaim
    var iat: IssuedAtClaim
    var jti: IDClaim
    var namespaceID: String
    var namespacePath: String
    var projectID: String
    var projectPath: String
    var userID: String
    var userLogin: String
    var userEmail: String
    var userAccessLevel: String?
    var pipelineID: String
    var pipelineSource: String
    var jobID: String
    var ref: String
    var refType: String
    var refPath: String
    var refProtected: String
    var runnerID: Int64?
    var runnerEnvironment: String
    var sha: String
    var projectVisibility: String
    var ciConfigRefURI: String
    var ciConfigSHA: String

    enum CodingKeys: String, CodingKey {
        case iss, sub, aud, exp, nbf, iat, jti, ref, sha
        case namespaceID = "namespace_id", namespacePath = "namespace_path", projectID = "project_id", projectPath = "project_path"
        case userID = "user_id", userLogin = "user_login", userEmail = "user_email", userAccessLevel = "user_access_level"
        case pipelineID = "pipeline_id", pipelineSource = "pipeline_source", jobID = "job_id", refType = "ref_type", refPath = "ref_path"
        case refProtected = "ref_protected", runnerID = "runner_id", runnerEnvironment = "runner_environment"
        case projectVisibility = "project_visibility", ciConfigRefURI = "ci_config_ref_uri", ciConfigSHA = "ci_config_sha"
    }

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
    }

    /// GitLab's claims for `job` of `pipeline` in `project`, run by `user`, for `audiences`, valid for the job's timeout.
    static func make(
        job: Job, pipeline: Pipeline, project: Project, user: User?, accessLevel: AccessLevel?, audiences: [String], issuer: String, timeout: Int,
        refProtected: Bool, now: Date = Date()
    ) -> IDTokenClaims {
        let issued = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        let refType = pipeline.isTag ? "tag" : "branch"
        let refPath = (pipeline.isTag ? "refs/tags/" : "refs/heads/") + pipeline.ref
        let host = URL(string: issuer)?.host.map { host in URL(string: issuer)?.port.map { "\(host):\($0)" } ?? host } ?? issuer
        return IDTokenClaims(
            iss: .init(value: issuer), sub: .init(value: "project_path:\(project.fullPath):ref_type:\(refType):ref:\(pipeline.ref)"),
            aud: .init(value: audiences), exp: .init(value: issued.addingTimeInterval(TimeInterval(max(timeout, 60)))),
            nbf: .init(value: issued.addingTimeInterval(-5)), iat: .init(value: issued), jti: .init(value: UUID().uuidString),
            namespaceID: String(project.namespace.id), namespacePath: project.namespace.fullPath, projectID: String(project.id),
            projectPath: project.fullPath, userID: user.map { String($0.id) } ?? "", userLogin: user?.username ?? "", userEmail: user?.email ?? "",
            userAccessLevel: accessLevel.map { "\($0.title)".lowercased() }, pipelineID: String(pipeline.id), pipelineSource: pipeline.source.rawValue,
            jobID: String(job.id), ref: pipeline.ref, refType: refType, refPath: refPath, refProtected: refProtected ? "true" : "false", runnerID: job.runnerID,
            runnerEnvironment: "self-hosted", sha: pipeline.sha, projectVisibility: project.visibility.rawValue,
            ciConfigRefURI: "\(host)/\(project.fullPath)//.gitlab-ci.yml@\(refPath)", ciConfigSHA: pipeline.sha)
    }
}
