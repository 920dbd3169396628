import Foundation
import LatchkeyCore
import Testing

/// `POST /job/token/revoke` (`AccessPolicy.mayRevokeJobToken`) over who asks × role × visibility × token scopes × whose job,
/// against a model written from the route's documented rule, not from the policy's helpers: the job itself with its own token;
/// with a personal credential, a Maintainer or Owner of the job's project (an `api`-scoped token) or an administrator; someone who
/// cannot see a private project gets "not found", so a job id reveals nothing.
@Suite("Job token revocation decision table")
struct JobTokenRevocationDecisionTableTests {
    enum Role: CaseIterable { case none, guest, reporter, developer, maintainer, owner, admin, blocked }

    static let epoch = Date(timeIntervalSince1970: 0)

    static func level(_ role: Role) -> AccessLevel? {
        switch role {
        case .none, .admin: nil
        case .guest: .guest
        case .reporter: .reporter
        case .developer, .blocked: .developer
        case .maintainer: .maintainer
        case .owner: .owner
        }
    }

    static func user(_ role: Role) -> User {
        User(id: 7, username: "me", name: "Me", email: "me@example.com", isAdmin: role == .admin, isBlocked: role == .blocked, createdAt: epoch)
    }

    static func project(_ visibility: Visibility) -> Project {
        let namespace = Namespace(id: 3, kind: .group, name: "g", path: "g", fullPath: "g", groupID: 3, ownerID: nil)
        return Project(
            id: 100, name: "p", path: "p", namespace: namespace, visibility: visibility, description: "", defaultBranch: "main", creatorID: 1, createdAt: epoch,
            lastActivityAt: epoch, jobTokenInboundEnabled: true, jobTokenOutboundEnabled: false, jobTokenPushAllowed: false)
    }

    static func job(id: Int64) -> Job {
        Job(
            id: id, pipelineID: 8, projectID: 100, name: "probe", stage: "test", stageIndex: 0, status: .running, definition: JobDefinition(name: "probe", script: ["true"]),
            userID: 7, retried: false, runnerID: 1, failureReason: nil, createdAt: epoch, queuedAt: epoch, startedAt: epoch, finishedAt: nil, updatedAt: epoch)
    }

    enum Outcome: Equatable { case allowed, unauthenticated, notFound, blocked, scope, forbidden }

    static func outcome(_ decision: Decision) -> Outcome {
        switch decision {
        case .allowed: .allowed
        case .denied(.unauthenticated): .unauthenticated
        case .denied(.notFound): .notFound
        case .denied(.blocked): .blocked
        case .denied(.insufficientScope): .scope
        case .denied: .forbidden
        }
    }

    /// The rule for a personal credential: blocked first, then visibility, then the token's scope (a write: `api`), then the role.
    static func userModel(_ role: Role, _ scopes: Set<TokenScope>?, _ visibility: Visibility) -> Outcome {
        if role == .blocked { return .blocked }
        let member = level(role).map { $0.rawValue >= 10 } ?? false
        if visibility == .private && !member && role != .admin { return .notFound }
        if let scopes, !scopes.contains(.api) { return .scope }
        if role == .admin || role == .maintainer || role == .owner { return .allowed }
        return .forbidden
    }

    @Test("every case of who asks, role, visibility, scopes and whose job matches the model")
    func table() {
        var mismatches: [String] = []
        var seen: [Outcome: Int] = [:]
        let target: Int64 = 9
        for visibility in Visibility.allCases {
            for role in Role.allCases {
                let facts = ProjectAccessFacts(project: Self.project(visibility), memberLevel: Self.level(role))
                for scopes in [nil, [.api], [.readAPI], [.readRepository, .writeRepository]] as [Set<TokenScope>?] {
                    let got = Self.outcome(AccessPolicy.mayRevokeJobToken(.user(UserActor(user: Self.user(role), scopes: scopes)), jobID: target, on: facts))
                    let want = Self.userModel(role, scopes, visibility)
                    seen[got, default: 0] += 1
                    if got != want { mismatches.append("user \(role) \(visibility) \(String(describing: scopes)): got \(got), want \(want)") }
                }
                // A job token: only the job's own, whatever its user's role; another job's token of the same project never.
                for jobID in [target, target + 1] {
                    let actor = Actor.job(JobActor(job: Self.job(id: jobID), project: Self.project(visibility), user: Self.user(role)))
                    let got = Self.outcome(AccessPolicy.mayRevokeJobToken(actor, jobID: target, on: facts))
                    let want: Outcome = jobID == target ? .allowed : .forbidden
                    seen[got, default: 0] += 1
                    if got != want { mismatches.append("job \(jobID) of \(role) \(visibility): got \(got), want \(want)") }
                }
            }
            let anonymous = Self.outcome(AccessPolicy.mayRevokeJobToken(.anonymous, jobID: target, on: ProjectAccessFacts(project: Self.project(visibility), memberLevel: nil)))
            seen[anonymous, default: 0] += 1
            if anonymous != .unauthenticated { mismatches.append("anonymous \(visibility): got \(anonymous)") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches:\n\(mismatches.prefix(25).joined(separator: "\n"))")
        // Every outcome occurs, so the table cannot pass by answering one thing.
        #expect(Set(seen.keys) == [.allowed, .unauthenticated, .notFound, .blocked, .scope, .forbidden], "\(seen)")
    }
}
