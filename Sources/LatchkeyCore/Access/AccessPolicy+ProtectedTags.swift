/// A change to one tag, as a push or the tags API makes it.
public enum TagChange: Sendable, Equatable {
    case create
    case update
    case delete
}

/// Why a change to a tag is refused, with GitLab's words (`Gitlab::Checks::TagCheck`).
public enum TagChangeRefusal: Sendable, Equatable, Error {
    case updateProtected
    case deleteProtected
    case deleteProtectedOverPush
    case createProtected
    case defaultBranchCollision

    public var message: String {
        switch self {
        case .updateProtected: "Protected tags cannot be updated."
        case .deleteProtected: "You are not allowed to delete protected tags from this project. Only a project maintainer or owner can delete a protected tag."
        case .deleteProtectedOverPush: "You can only delete protected tags using the web interface."
        case .createProtected: "You are not allowed to create this tag as it is protected."
        case .defaultBranchCollision: "You cannot use default branch name to create a tag"
        }
    }
}

/// What one protected tag rule lets one actor do, for the git hook.
public struct ProtectedTagGrant: Sendable, Equatable {
    public var pattern: String
    public var mayCreate: Bool
}

extension AccessPolicy {
    /// What each protected tag rule lets the actor do.
    public static func grants(_ actor: Actor, _ rules: ProtectedTags, on facts: ProjectAccessFacts) -> [ProtectedTagGrant] {
        rules.rules.map { ProtectedTagGrant(pattern: $0.name, mayCreate: admits($0.createAccessLevel, actor, on: facts)) }
    }

    /// Whether an actor that already has `push_code` may make `change` to `tag`; nil when it may, else GitLab's refusal. No one,
    /// not even an administrator, moves a protected tag; deleting one takes a Maintainer, and the API or web pages.
    public static func checkTagChange(
        _ actor: Actor, _ change: TagChange, tag: String, origin: BranchChangeOrigin, rules: ProtectedTags, on facts: ProjectAccessFacts
    ) -> TagChangeRefusal? {
        if change == .create, tag == facts.project.defaultBranch { return .defaultBranchCollision }
        let matching = rules.matching(tag)
        guard !matching.isEmpty else { return nil }
        switch change {
        case .update:
            return .updateProtected
        case .delete:
            guard decide(actor, .adminProject, on: facts).isAllowed else { return .deleteProtected }
            return origin == .push ? .deleteProtectedOverPush : nil
        case .create:
            return matching.contains { admits($0.createAccessLevel, actor, on: facts) } ? nil : .createProtected
        }
    }
}
