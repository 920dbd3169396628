/// Whether a branch or tag is protected and who may still run pipelines for it (GitLab's `ref_protected?`: a user who may neither
/// push nor merge to a protected branch, or create a protected tag, may not run pipelines, play schedules or jobs on it).
public struct RefProtection: Sendable, Equatable {
    /// The ref's name, for the explanation.
    public var ref: String
    public var isProtected: Bool
    /// The least role that may push or merge to the ref (create it, for a tag); nil when no one may.
    public var allowedLevel: AccessLevel?

    public init(ref: String, isProtected: Bool, allowedLevel: AccessLevel?) {
        self.ref = ref
        self.isProtected = isProtected
        self.allowedLevel = allowedLevel
    }

    /// A ref nothing protects.
    public static func unprotected(_ ref: String) -> RefProtection { RefProtection(ref: ref, isProtected: false, allowedLevel: .guest) }
}

extension AccessPolicy {
    /// Whether the actor may run pipelines on `ref` once it has the project ability (create_pipeline, update_build): an
    /// administrator always, anyone else only with a role the ref's protection admits.
    public static func decide(_ actor: Actor, _ ability: ProjectAbility, on facts: ProjectAccessFacts, ref: RefProtection) -> Decision {
        let decision = decide(actor, ability, on: facts)
        guard decision.isAllowed, ref.isProtected, ability.isGuardedByRefProtection else { return decision }
        if actor.user?.isAdmin == true { return .allowed }
        // GitLab answers a protected ref like any missing role (403); "no one" is below every role but the Owner's reach, too.
        guard let allowed = ref.allowedLevel else { return .denied(.insufficientRole(required: .owner, actual: facts.memberLevel)) }
        guard let level = facts.memberLevel, level >= allowed else { return .denied(.insufficientRole(required: allowed, actual: facts.memberLevel)) }
        return .allowed
    }
}

extension ProjectAbility {
    /// Abilities that run code on a ref, which a protected ref limits further.
    public var isGuardedByRefProtection: Bool { self == .createPipeline || self == .updateJob || self == .updatePipeline }
}
