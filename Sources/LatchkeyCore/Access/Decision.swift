/// The outcome of one access decision.
public enum Decision: Sendable, Equatable {
    case allowed
    case denied(Denial)

    public var isAllowed: Bool { self == .allowed }
}

/// Why an access decision said no; drives the HTTP answer and the explanation a user reads.
public enum Denial: Sendable, Equatable, Error {
    /// No valid credentials where they are needed.
    case unauthenticated
    /// The target does not exist for this actor (never reveal that it exists).
    case notFound
    /// The actor can see the target but its role is below what the ability needs.
    case insufficientRole(required: AccessLevel, actual: AccessLevel?)
    /// The token's scopes do not cover the ability.
    case insufficientScope(required: TokenScope)
    /// The user is blocked.
    case blocked
    /// The target's job token scope does not admit the job's project.
    case jobTokenScope(source: String, target: String)
    /// The job's own project limits where its token may go ("Limit access from this project").
    case jobTokenOutboundScope(source: String, target: String)
    /// The allowlist entry lacks the fine-grained permission.
    case jobTokenPolicyMissing(JobTokenPolicy)
    /// The job token's own permissions (its `permissions:` or a ceiling over them) do not include what the ability needs.
    case jobTokenPermissionMissing(JobTokenPermission, limitedBy: JobTokenPermissionLimit)
    /// A job token cannot be used for this at all.
    case notAJobTokenAbility(ProjectAbility)
    /// The job is not running, so its token is dead.
    case jobNotRunning
    /// A project access token's bot may act in its project only, never make namespaces of its own.
    case botAccount

    /// Whether the refusal came after the actor's user was found able to see the target, so naming the target reveals nothing.
    /// `AccessPolicy` answers `notFound` before anything else when the target is invisible; the dead-token and blocked refusals come
    /// before the target is looked at, so they say nothing about it either.
    public var targetIsVisible: Bool {
        switch self {
        case .insufficientRole, .insufficientScope, .jobTokenScope, .jobTokenOutboundScope, .jobTokenPolicyMissing, .jobTokenPermissionMissing,
            .notAJobTokenAbility, .botAccount:
            true
        case .unauthenticated, .notFound, .blocked, .jobNotRunning: false
        }
    }

    /// A plain-words explanation, safe to show (no secrets).
    public var explanation: String {
        switch self {
        case .unauthenticated: "authentication is required"
        case .notFound: "the target does not exist or is not visible to you"
        case .insufficientRole(let required, let actual):
            "this needs the \(required.title) role or higher; you have \(actual.map(\.title) ?? "no role")"
        case .insufficientScope(let required): "the token's scopes do not include \(required.rawValue)"
        case .blocked: "the user is blocked"
        case .botAccount: "a project access token's bot user cannot do this"
        case .jobTokenScope(let source, let target):
            "Authentication by CI/CD job token not allowed from \(source) to \(target)."
        case .jobTokenOutboundScope(let source, let target):
            "Authentication by CI/CD job token not allowed from \(source) to \(target): \(source) limits its job token to its outbound allowlist."
        case .jobTokenPolicyMissing(let policy): "The following token permission is required: \(policy.rawValue)."
        case .jobTokenPermissionMissing(let permission, let limit):
            "The job token's permissions do not include \(permission) (limited by \(limit.title))."
        case .notAJobTokenAbility(let ability): "a CI/CD job token cannot be used to \(ability.rawValue)"
        case .jobNotRunning: "the job is not running, so its token is no longer valid"
        }
    }
}
