extension AccessPolicy {
    /// Whether the actor may create a project in the personal namespace of user `ownerID`: its owner, or an administrator.
    public static func mayCreateProject(_ actor: Actor, inPersonalNamespaceOf ownerID: Int64?) -> Decision {
        guard case .user(let userActor) = actor else { return actor.isJob ? .denied(.notAJobTokenAbility(.adminProject)) : .denied(.unauthenticated) }
        let access = mayUseAPI(userActor, write: true)
        guard access.isAllowed else { return access }
        if userActor.user.isAdmin || ownerID == userActor.user.id { return .allowed }
        return .denied(notOwner(nil))
    }

    /// Whether the actor may create a top-level group: any signed-in person with a write scope, never a bot (an access token
    /// made for one project must not grow namespaces of its own).
    public static func mayCreateTopLevelGroup(_ actor: Actor) -> Decision {
        guard case .user(let userActor) = actor else { return actor.isJob ? .denied(.notAJobTokenAbility(.adminProject)) : .denied(.unauthenticated) }
        let access = mayUseAPI(userActor, write: true)
        guard access.isAllowed else { return access }
        return userActor.user.isBot ? .denied(.botAccount) : .allowed
    }

    /// Whether listings show the actor every project (an administrator, or a job acting as one).
    public static func seesEveryProject(_ actor: Actor) -> Bool { actor.user?.isAdmin == true }

    /// Whether the actor may see the group at all: a public group, an internal one to any signed-in user, a private one to its
    /// members, an administrator, and whoever can see something inside it.
    public static func mayList(_ actor: Actor, _ facts: GroupAccessFacts) -> Bool {
        decide(actor, .readGroup, on: facts).isAllowed
    }
}

extension Actor {
    /// Whether the actor is a job using its token.
    public var isJob: Bool {
        if case .job = self { return true }
        return false
    }
}
