/// What the policy needs to know about a project for one actor.
public struct ProjectAccessFacts: Sendable {
    public var project: Project
    /// The actor's user's effective level: the highest of its project and inherited group memberships.
    public var memberLevel: AccessLevel?

    public init(project: Project, memberLevel: AccessLevel?) {
        self.project = project
        self.memberLevel = memberLevel
    }
}

/// What the policy needs to know about a group for one actor.
public struct GroupAccessFacts: Sendable {
    public var group: Group
    public var memberLevel: AccessLevel?
    /// Whether the actor can see some project or subgroup inside (which makes the group visible, as in GitLab).
    public var hasVisibleDescendant: Bool

    public init(group: Group, memberLevel: AccessLevel?, hasVisibleDescendant: Bool = false) {
        self.group = group
        self.memberLevel = memberLevel
        self.hasVisibleDescendant = hasVisibleDescendant
    }
}

/// The one place where every access decision is made.
public enum AccessPolicy {
    /// Decides whether `actor` may use `ability` on the project.
    public static func decide(_ actor: Actor, _ ability: ProjectAbility, on facts: ProjectAccessFacts) -> Decision {
        switch actor {
        case .anonymous:
            guard facts.project.visibility == .public else { return .denied(.notFound) }
            return ability.isOpenOnVisibleProjects ? .allowed : .denied(.unauthenticated)
        case .user(let userActor):
            return decide(userActor, visibility: facts.project.visibility, level: facts.memberLevel, open: ability.isOpenOnVisibleProjects,
                          required: ability.minimumLevel, isWrite: ability.isWrite, gitAbility: gitScope(for: ability))
        }
    }

    /// Decides whether `actor` may use `ability` on the group.
    public static func decide(_ actor: Actor, _ ability: GroupAbility, on facts: GroupAccessFacts) -> Decision {
        switch actor {
        case .anonymous:
            guard facts.group.visibility == .public || facts.hasVisibleDescendant else { return .denied(.notFound) }
            return ability == .readGroup ? .allowed : .denied(.unauthenticated)
        case .user(let userActor):
            let visibility: Visibility = facts.hasVisibleDescendant ? max(facts.group.visibility, .internal) : facts.group.visibility
            return decide(userActor, visibility: visibility, level: facts.memberLevel,
                          open: ability == .readGroup, required: ability.minimumLevel, isWrite: ability.isWrite, gitAbility: nil)
        }
    }

    /// Whether the actor may administer the instance (users, runners, settings).
    public static func mayAdministerInstance(_ actor: Actor) -> Decision {
        guard case .user(let userActor) = actor else { return .denied(.unauthenticated) }
        guard !userActor.user.isBlocked else { return .denied(.blocked) }
        guard userActor.user.isAdmin else { return .denied(.insufficientRole(required: .owner, actual: nil)) }
        if let scopes = userActor.scopes, !scopes.contains(.api) { return .denied(.insufficientScope(required: .api)) }
        return .allowed
    }

    /// Whether a signed-in user may act at all with the credential used for a request of the given kind.
    public static func mayUseAPI(_ actor: UserActor, write: Bool) -> Decision {
        guard !actor.user.isBlocked else { return .denied(.blocked) }
        if let scopes = actor.scopes, !scopes.allowsAPI(write: write) {
            return .denied(.insufficientScope(required: write ? .api : .readAPI))
        }
        return .allowed
    }

    private enum GitScope { case read, write }

    private static func gitScope(for ability: ProjectAbility) -> GitScope? {
        switch ability {
        case .downloadCode: .read
        case .pushCode: .write
        default: nil
        }
    }

    private static func decide(
        _ actor: UserActor, visibility: Visibility, level: AccessLevel?, open: Bool, required: AccessLevel,
        isWrite: Bool, gitAbility: GitScope?
    ) -> Decision {
        let user = actor.user
        guard !user.isBlocked else { return .denied(.blocked) }
        let memberLevel = level.flatMap { $0 >= .guest ? $0 : nil }
        let canSee = user.isAdmin || memberLevel != nil || visibility != .private
        guard canSee else { return .denied(.notFound) }
        if let scopes = actor.scopes {
            switch gitAbility {
            case .read?:
                guard scopes.allowsGitRead else { return .denied(.insufficientScope(required: .readRepository)) }
            case .write?:
                guard scopes.allowsGitWrite else { return .denied(.insufficientScope(required: .writeRepository)) }
            case nil:
                guard scopes.allowsAPI(write: isWrite) else { return .denied(.insufficientScope(required: isWrite ? .api : .readAPI)) }
            }
        }
        if user.isAdmin { return .allowed }
        if let memberLevel, memberLevel >= required { return .allowed }
        if open && visibility != .private { return .allowed }
        return .denied(.insufficientRole(required: required, actual: memberLevel))
    }
}
