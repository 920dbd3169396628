/// What the policy needs to know about a project for one actor.
public struct ProjectAccessFacts: Sendable {
    public var project: Project
    /// The actor's user's effective level: the highest of its project and inherited group memberships.
    public var memberLevel: AccessLevel?
    /// For a job actor on another project: how that project's scope treats the job's project.
    public var jobTokenScope: JobTokenScopeFacts?
    /// For a job actor: its token's own permissions (`permissions:` and the ceilings); nil leaves the token unnarrowed.
    public var jobTokenPermissions: JobTokenPermissionFacts?

    public init(project: Project, memberLevel: AccessLevel?, jobTokenScope: JobTokenScopeFacts? = nil, jobTokenPermissions: JobTokenPermissionFacts? = nil) {
        self.project = project
        self.memberLevel = memberLevel
        self.jobTokenScope = jobTokenScope
        self.jobTokenPermissions = jobTokenPermissions
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
        case .job(let jobActor):
            return decide(jobActor, ability, on: facts)
        }
    }

    /// A job token may do only what all of these allow: the job is running; the ability is one job tokens may use; the job's own
    /// `permissions:` within its project's and the instance's ceilings; the user's own role on the target; the target's scope (and the
    /// source's outbound scope); and the allowlist entry's fine-grained permissions.
    private static func decide(_ actor: JobActor, _ ability: ProjectAbility, on facts: ProjectAccessFacts) -> Decision {
        guard actor.job.status == .running || actor.job.status == .canceling else { return .denied(.jobNotRunning) }
        let asUser = decide(UserActor(user: actor.user, scopes: nil), visibility: facts.project.visibility, level: facts.memberLevel,
                            open: ability.isOpenOnVisibleProjects, required: ability.minimumLevel, isWrite: ability.isWrite, gitAbility: nil)
        // What the user cannot even see stays invisible, whatever the scope says; a blocked user's every credential is refused
        // before the target is looked at (GitLab answers "Your account has been blocked.").
        if asUser == .denied(.notFound) || asUser == .denied(.blocked) { return asUser }
        guard ability.isJobTokenAbility else { return .denied(.notAJobTokenAbility(ability)) }
        // The job narrowed its own token (or a ceiling did): checked before any scope, wherever the target is.
        if let permissions = facts.jobTokenPermissions, let needed = ability.jobTokenPermission, let limit = permissions.refusal(of: needed) {
            return .denied(.jobTokenPermissionMissing(needed, limitedBy: limit))
        }
        let sameProject = facts.project.id == actor.project.id
        if ability == .pushCode || ability == .createContainerImage {
            // Writing code or images with a job token reaches only the job's own project.
            guard sameProject else { return .denied(.jobTokenScope(source: actor.project.fullPath, target: facts.project.fullPath)) }
            if ability == .pushCode, !facts.project.jobTokenPushAllowed { return .denied(.notAJobTokenAbility(ability)) }
            return asUser
        }
        if !sameProject {
            let scope = facts.jobTokenScope ?? JobTokenScopeFacts(inboundEnabled: facts.project.jobTokenInboundEnabled, grant: nil)
            // The scope restricts only what needs membership: what anyone (or any signed-in user) may read stays readable.
            let openAnyway = facts.project.visibility != .private && ability.isOpenOnVisibleProjects
            if !openAnyway {
                // The legacy outbound scope guards private targets only (GitLab's Scope#outbound_accessible?; the seed: "If project B
                // is public or internal, you do not need to add B to the allowlist").
                guard scope.outboundAllows || facts.project.visibility != .private else {
                    return .denied(.jobTokenOutboundScope(source: actor.project.fullPath, target: facts.project.fullPath))
                }
                if scope.inboundEnabled {
                    guard let grant = scope.grant else { return .denied(.jobTokenScope(source: actor.project.fullPath, target: facts.project.fullPath)) }
                    guard grant.admits(ability.jobTokenPolicy) else { return .denied(.jobTokenPolicyMissing(ability.jobTokenPolicy!)) }
                }
            }
        }
        return asUser
    }

    /// Whether the job's runner may download the artifacts of `owner` for the job: a job of its own pipeline whose artifacts the job
    /// takes (its `dependencies:`, or every earlier stage without them) comes with the job whatever its `permissions:` say, as the
    /// checkout does; any other job's artifacts are `read_job_artifacts` like every other use of the token.
    public static func decide(_ actor: JobActor, dependencyArtifactsOf owner: Job, on facts: ProjectAccessFacts) -> Decision {
        var facts = facts
        let isDependency =
            owner.pipelineID == actor.job.pipelineID && owner.id != actor.job.id
            && (actor.job.definition.dependencies.map { $0.contains(owner.name) } ?? (owner.stageIndex < actor.job.stageIndex))
        if isDependency { facts.jobTokenPermissions = nil }
        return decide(.job(actor), .readJobArtifacts, on: facts)
    }

    /// Decides whether `actor` may use `ability` on the group.
    public static func decide(_ actor: Actor, _ ability: GroupAbility, on facts: GroupAccessFacts) -> Decision {
        switch actor {
        case .anonymous:
            guard facts.group.visibility == .public || facts.hasVisibleDescendant else { return .denied(.notFound) }
            return ability == .readGroup ? .allowed : .denied(.unauthenticated)
        case .job:
            // Job tokens reach projects, never group administration.
            return ability == .readGroup && facts.group.visibility == .public ? .allowed : .denied(.notFound)
        case .user(let userActor):
            let visibility: Visibility = facts.hasVisibleDescendant ? max(facts.group.visibility, .internal) : facts.group.visibility
            return decide(userActor, visibility: visibility, level: facts.memberLevel,
                          open: ability == .readGroup, required: ability.minimumLevel, isWrite: ability.isWrite, gitAbility: nil)
        }
    }

    /// Whether the actor may administer the instance (users, runners, settings).
    public static func mayAdministerInstance(_ actor: Actor) -> Decision {
        if case .job = actor { return .denied(.insufficientRole(required: .owner, actual: nil)) }
        guard case .user(let userActor) = actor else { return .denied(.unauthenticated) }
        guard !userActor.user.isBlocked else { return .denied(.blocked) }
        guard userActor.user.isAdmin else { return .denied(.insufficientRole(required: .owner, actual: nil)) }
        if let scopes = userActor.scopes, !scopes.contains(.api) { return .denied(.insufficientScope(required: .api)) }
        return .allowed
    }

    /// Whether the actor may call a route that needs credentials at all; asked before anything is looked up, so an anonymous caller
    /// learns nothing about what exists (GitLab's `before { authenticate! }`, or `authenticate_non_get!` for writes only).
    public static func mayCall(_ actor: Actor, authenticatedOnly: Bool) -> Decision {
        if authenticatedOnly, case .anonymous = actor { return .denied(.unauthenticated) }
        return .allowed
    }

    /// Whether the actor may act as another user (`Sudo`): only an administrator's personal access token with the `sudo` scope.
    /// A job token or a password sign-in is refused like a non-administrator (`insufficientRole`), a token without the scope with
    /// `insufficientScope(.sudo)`, as GitLab's `sudo!`.
    public static func maySudo(_ actor: Actor) -> Decision {
        switch actor {
        case .anonymous:
            return .denied(.unauthenticated)
        case .job:
            return .denied(.insufficientRole(required: .owner, actual: nil))
        case .user(let userActor):
            guard !userActor.user.isBlocked else { return .denied(.blocked) }
            guard userActor.user.isAdmin, let scopes = userActor.scopes else { return .denied(.insufficientRole(required: .owner, actual: nil)) }
            guard scopes.contains(.sudo) else { return .denied(.insufficientScope(required: .sudo)) }
            return .allowed
        }
    }

    /// For a refused `Sudo`: whether the actor's role would do and only its credential does not (an administrator without a personal
    /// access token, a job token), which GitLab answers "Must be authenticated using an OAuth or Personal Access Token".
    public static func sudoNeedsPersonalAccessToken(_ actor: Actor) -> Bool {
        switch actor {
        case .anonymous: false
        case .job: true
        case .user(let userActor): userActor.user.isAdmin && !userActor.user.isBlocked
        }
    }

    /// Whether a signed-in user may act at all with the credential used for a request of the given kind.
    public static func mayUseAPI(_ actor: UserActor, write: Bool) -> Decision {
        guard !actor.user.isBlocked else { return .denied(.blocked) }
        if let scopes = actor.scopes, !scopes.allowsAPI(write: write) {
            return .denied(.insufficientScope(required: write ? .api : .readAPI))
        }
        return .allowed
    }

    /// Abilities whose token scopes are not the API's: git and the container registry.
    private enum GitScope { case read, write, registryRead, registryWrite }

    private static func gitScope(for ability: ProjectAbility) -> GitScope? {
        switch ability {
        case .downloadCode: .read
        case .pushCode: .write
        case .readContainerImage: .registryRead
        case .createContainerImage: .registryWrite
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
                // GitLab: read_api grants download_code too (the repository files API and clones), not only read_repository.
                guard scopes.allowsGitRead || scopes.allowsAPI(write: false) else { return .denied(.insufficientScope(required: .readRepository)) }
            case .write?:
                guard scopes.allowsGitWrite else { return .denied(.insufficientScope(required: .writeRepository)) }
            case .registryRead?:
                guard scopes.contains(.readRegistry) || scopes.contains(.writeRegistry) || scopes.allowsAPI(write: false) else {
                    return .denied(.insufficientScope(required: .readRegistry))
                }
            case .registryWrite?:
                guard scopes.contains(.writeRegistry) || scopes.contains(.api) else { return .denied(.insufficientScope(required: .writeRegistry)) }
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
