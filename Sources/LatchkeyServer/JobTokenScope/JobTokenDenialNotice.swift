import Foundation
import LatchkeyCore

/// The line a job's trace gets when its token is refused: which rule refused what, from where to where, never a secret.
enum JobTokenDenialNotice {
    /// What the trace says for a target the job's user cannot see (a job reads its own trace: naming it would tell that it exists).
    static let invisibleTarget = "a project you cannot see"

    static func line(source: String, target: String, ability: ProjectAbility, denial: Denial) -> String {
        let target = denial.targetIsVisible ? target : invisibleTarget
        let rule: String =
            switch denial {
            case .jobTokenScope:
                "\(target) has \"Limit access to this project\" on and its allowlist admits neither \(source) nor a group above it (Settings > CI/CD > Token Access)"
            case .jobTokenOutboundScope:
                "\(source) has \"Limit access from this project\" on and \(target) is not in its outbound list"
            case .jobTokenPolicyMissing(let policy):
                "the allowlist entry that admits \(source) does not grant \(policy.rawValue)"
            case .jobTokenPermissionMissing(let permission, let limit):
                switch limit {
                case .job: "the job's permissions: in .gitlab-ci.yml do not include \(permission)"
                case .project: "\(source)'s job token permissions ceiling (Settings > CI/CD > Token Access) does not include \(permission)"
                case .instance: "the instance's job token permissions ceiling (Admin > Settings) does not include \(permission)"
                }
            case .notFound:
                "the job's user cannot see it"
            case .insufficientRole(let required, let actual):
                "the job's user has \(actual?.title ?? "no role") on \(target); \(required.title) is needed"
            case .notAJobTokenAbility:
                "a job token cannot be used for this"
            case .jobNotRunning, .unauthenticated:
                "the job is no longer running"
            case .insufficientScope, .blocked, .botAccount:
                denial.explanation
            }
        return "\n\u{1B}[31;1mLatchkey: job token refused: \(ability.rawValue) on \(target) from \(source): \(rule).\u{1B}[0;m\n"
    }
}
