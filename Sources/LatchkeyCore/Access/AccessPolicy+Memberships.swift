/// A change to one membership of a project or group.
public enum MembershipChange: Sendable, Equatable {
    case add(AccessLevel)
    case update(from: AccessLevel, to: AccessLevel)
    case remove(AccessLevel)
}

/// The project or group whose members are read or changed, with the actor's facts on it.
public enum MembershipTarget: Sendable {
    case project(ProjectAccessFacts)
    case group(GroupAccessFacts)
}

/// What the policy needs to know about one membership change.
public struct MembershipChangeFacts: Sendable {
    public var target: MembershipTarget
    /// The user whose membership changes.
    public var memberID: Int64
    public var change: MembershipChange
    /// The target's direct memberships (a group needs at least one Owner when it has no parent to inherit one from).
    public var directMembers: [Membership]
    /// Whether the target inherits members from a parent group.
    public var inheritsMembers: Bool

    public init(target: MembershipTarget, memberID: Int64, change: MembershipChange, directMembers: [Membership], inheritsMembers: Bool) {
        self.target = target
        self.memberID = memberID
        self.change = change
        self.directMembers = directMembers
        self.inheritsMembers = inheritsMembers
    }
}

extension AccessPolicy {
    /// Whether the actor may read the target's members.
    public static func mayReadMembers(_ actor: Actor, of target: MembershipTarget) -> Decision {
        switch target {
        case .project(let facts): decide(actor, .readMembers, on: facts)
        case .group(let facts): decide(actor, .readGroup, on: facts)
        }
    }

    /// Whether the actor may manage the target's members at `level` (managing Owners needs manage_owners).
    public static func mayManageMembers(_ actor: Actor, at level: AccessLevel, of target: MembershipTarget) -> Decision {
        let owners = level == .owner
        switch target {
        case .project(let facts): return decide(actor, owners ? ProjectAbility.manageOwners : .adminMembers, on: facts)
        case .group(let facts): return decide(actor, owners ? GroupAbility.manageOwners : .adminMembers, on: facts)
        }
    }

    /// GitLab's member rules: a member may leave by themselves; everyone else needs admin_member, and manage_owners for anything
    /// that gives or takes the Owner role. (That a top-level group keeps an Owner is `removesLastOwner`, asked after this.)
    public static func mayChange(_ actor: Actor, _ facts: MembershipChangeFacts) -> Decision {
        let leaving: Bool
        if case .remove = facts.change, actor.user?.id == facts.memberID { leaving = true } else { leaving = false }
        let access: Decision
        switch facts.change {
        case .add(let level): access = mayManageMembers(actor, at: level, of: facts.target)
        case .update(let from, let to): access = mayManageMembers(actor, at: max(from, to), of: facts.target)
        case .remove(let level): access = leaving ? mayReadMembers(actor, of: facts.target) : mayManageMembers(actor, at: level, of: facts.target)
        }
        return access
    }

    /// Whether the change would leave a top-level group without an Owner (GitLab refuses it with 403, whoever asks).
    public static func removesLastOwner(_ facts: MembershipChangeFacts) -> Bool {
        guard case .group = facts.target, !facts.inheritsMembers, removesOwner(facts.change) else { return false }
        let owners = facts.directMembers.filter { $0.accessLevel == .owner }
        return owners.count == 1 && owners[0].userID == facts.memberID
    }

    private static func removesOwner(_ change: MembershipChange) -> Bool {
        switch change {
        case .add: false
        case .update(let from, let to): from == .owner && to != .owner
        case .remove(let level): level == .owner
        }
    }

    /// Whether, of two memberships of one user (direct and inherited), `candidate` is the one that counts over `current`: only when
    /// its level is higher (the first found wins a tie).
    public static func isStronger(_ candidate: Membership, than current: Membership) -> Bool {
        candidate.accessLevel > current.accessLevel
    }
}
