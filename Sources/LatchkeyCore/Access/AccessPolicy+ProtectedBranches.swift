/// A change to one branch, as a push or the branches API makes it.
public enum BranchChange: Sendable, Equatable {
    case create
    case update(forced: Bool)
    case delete
}

/// Where a branch change comes from: a git push, or the API and web pages (GitLab's `web` protocol, where a Maintainer may delete a
/// protected branch).
public enum BranchChangeOrigin: Sendable, Equatable {
    case push
    case api
}

/// Why a change to a branch is refused, with GitLab's words (`Gitlab::Checks::BranchCheck`).
public enum BranchChangeRefusal: Sendable, Equatable, Error {
    case pushToProtected
    case createProtected
    case forcePushToProtected
    case deleteProtectedOverPush
    case deleteProtected
    case deleteDefault

    public var message: String {
        switch self {
        case .pushToProtected: "You are not allowed to push code to protected branches on this project."
        case .createProtected: "You are not allowed to create protected branches on this project."
        case .forcePushToProtected: "You are not allowed to force push code to a protected branch on this project."
        case .deleteProtectedOverPush: "You can only delete protected branches using the web interface."
        case .deleteProtected:
            "You are not allowed to delete protected branches from this project. Only a project maintainer or owner can delete a protected branch."
        case .deleteDefault: "The default branch of a project cannot be deleted."
        }
    }
}

/// What one protected branch rule lets one actor do, for checks made outside Swift (the git hook).
public struct ProtectedBranchGrant: Sendable, Equatable {
    public var pattern: String
    public var mayPush: Bool
    public var mayMerge: Bool
    public var allowsForcePush: Bool
}

extension AccessPolicy {
    /// Whether the actor's role passes a protected branch access level (GitLab's `ProtectedRefAccess#check_access`: "No one" admits
    /// nobody, "Administrators" only administrators, a role level the members at or above it; an administrator is not a member).
    public static func admits(_ level: ProtectedRefAccessLevel, _ actor: Actor, on facts: ProjectAccessFacts) -> Bool {
        guard let user = actor.user, !user.isBlocked else { return false }
        switch level {
        case .noOne: return false
        case .admin: return user.isAdmin
        case .developer, .maintainer:
            guard let least = level.leastMemberLevel, let member = facts.memberLevel else { return false }
            return member >= least
        }
    }

    /// What each rule lets the actor do.
    public static func grants(_ actor: Actor, _ rules: ProtectedBranches, on facts: ProjectAccessFacts) -> [ProtectedBranchGrant] {
        rules.rules.map {
            ProtectedBranchGrant(
                pattern: $0.name, mayPush: admits($0.pushAccessLevel, actor, on: facts), mayMerge: admits($0.mergeAccessLevel, actor, on: facts),
                allowsForcePush: $0.allowForcePush)
        }
    }

    /// Whether an actor that already has `push_code` may make `change` to `branch` under the project's protected branch rules; nil
    /// when it may, else GitLab's refusal.
    public static func checkBranchChange(
        _ actor: Actor, _ change: BranchChange, branch: String, origin: BranchChangeOrigin, rules: ProtectedBranches, on facts: ProjectAccessFacts
    ) -> BranchChangeRefusal? {
        if change == .delete, branch == facts.project.defaultBranch { return .deleteDefault }
        let matching = rules.matching(branch)
        guard !matching.isEmpty else { return nil }
        let mayPush = matching.contains { admits($0.pushAccessLevel, actor, on: facts) }
        switch change {
        case .create:
            // GitLab's create check: pushing or merging to the branch lets one create it.
            return mayPush || matching.contains { admits($0.mergeAccessLevel, actor, on: facts) } ? nil : .createProtected
        case .update(let forced):
            guard mayPush else { return .pushToProtected }
            return forced && !rules.allowsForcePush(branch) ? .forcePushToProtected : nil
        case .delete:
            guard decide(actor, .adminProject, on: facts).isAllowed else { return .deleteProtected }
            return origin == .push ? .deleteProtectedOverPush : nil
        }
    }
}
