import Foundation
import LatchkeyCore
import LatchkeyStore
import Logging

/// A refusal from the `Authorizer`: the policy's reason and the kind of thing refused, rendered once per surface (REST through
/// `ErrorMiddleware`, GraphQL as an error or a null, the web as its own page).
struct AccessDenied: Error, Sendable, Equatable {
    var denial: Denial
    /// What a `notFound` names ("Project", "Group", "Namespace", "User", …).
    var resource: String

    init(_ denial: Denial, resource: String = "Project") {
        self.denial = denial
        self.resource = resource
    }
}

/// The one place that loads what an access decision needs (membership with expiry, ownership, visibility, job token scope,
/// allowlist entry and its policies, the job's `permissions:` and their ceilings, job state, ref protection) and asks `AccessPolicy`. Every route, GraphQL resolver, web page
/// and CLI command asks it; nothing else compares roles. It throws `AccessDenied`, never an HTTP error.
struct Authorizer: Sendable {
    let store: Store
    let traces: TraceStore
    let logger: Logger

    init(store: Store, traces: TraceStore, logger: Logger) {
        self.store = store
        self.traces = traces
        self.logger = logger
    }

    // MARK: Projects

    /// The project named by a route's `:id` (a number or a URL-encoded full path), as the actor's access facts; no decision yet.
    func project(_ rawID: String, for actor: Actor) async throws -> ProjectAccessFacts {
        let id = rawID.removingPercentEncoding ?? rawID
        let project: Project? =
            if let number = Int64(id) { try await store.projects.find(id: number) } else { try await store.projects.find(fullPath: id) }
        guard let project else { throw AccessDenied(.notFound) }
        return try await facts(for: project, actor: actor)
    }

    /// The project named by `:id`, if the actor may use `ability` on it; `AccessDenied` otherwise.
    func project(_ rawID: String, _ ability: ProjectAbility, actor: Actor) async throws -> ProjectAccessFacts {
        let facts = try await project(rawID, for: actor)
        try await authorize(actor, ability, facts)
        return facts
    }

    /// The access facts of `project` for `actor`: the user's effective level (expired memberships grant nothing), a job token's own
    /// permissions, and the job token scope when a job reaches across projects.
    func facts(for project: Project, actor: Actor) async throws -> ProjectAccessFacts {
        let level = try await memberLevel(of: actor, on: project)
        var facts = ProjectAccessFacts(project: project, memberLevel: level)
        if case .job(let job) = actor {
            facts.jobTokenPermissions = try await jobTokenPermissions(of: job.job, project: job.project)
            if job.project.id != project.id { facts.jobTokenScope = try await store.jobTokenScope.facts(source: job.project, target: project) }
        }
        return facts
    }

    /// A job token's own permissions as of now: the job's `permissions:`, its project's ceiling (the project as the request's
    /// authentication loaded it) and the instance's, so lowering a ceiling holds from the next request of a running job.
    func jobTokenPermissions(of job: Job, project: Project) async throws -> JobTokenPermissionFacts {
        JobTokenPermissionFacts(
            declared: job.definition.permissions, projectCeiling: project.jobTokenPermissionsCeiling,
            instanceCeiling: try await store.settings.jobTokenPermissionsCeiling())
    }

    /// Whether the job's runner may download `owner`'s artifacts for it (its dependencies come whatever its `permissions:` say).
    func authorizeDependencyArtifacts(_ actor: JobActor, of owner: Job, _ facts: ProjectAccessFacts) async throws {
        let decision = AccessPolicy.decide(actor, dependencyArtifactsOf: owner, on: facts)
        await recordJobTokenUse(actor, .readJobArtifacts, facts.project, decision)
        if case .denied(let denial) = decision { throw AccessDenied(denial) }
    }

    /// The actor's user's effective level on the project (for display, such as `permissions` in a project's JSON).
    func memberLevel(of actor: Actor, on project: Project) async throws -> AccessLevel? {
        guard let user = actor.user else { return nil }
        return try await memberLevel(of: user, on: project)
    }

    /// A user's effective level on the project, expired memberships granting nothing: what a job's ID token and cache key carry.
    func memberLevel(of user: User, on project: Project) async throws -> AccessLevel? {
        try await store.members.effectiveLevel(userID: user.id, project: project)
    }

    /// The actor's user's effective level on each of `projects`, in one query (for a listing's `permissions`).
    func memberLevels(of actor: Actor, on projects: [Project]) async throws -> [Int64: AccessLevel] {
        guard let user = actor.user else { return [:] }
        return try await store.members.effectiveLevels(userID: user.id, projects: projects)
    }

    /// The policy's answer, with a job token's use recorded (authentication log on success, the job's trace on refusal).
    func decide(_ actor: Actor, _ ability: ProjectAbility, _ facts: ProjectAccessFacts) async -> Decision {
        let decision = AccessPolicy.decide(actor, ability, on: facts)
        if case .job(let job) = actor { await recordJobTokenUse(job, ability, facts.project, decision) }
        return decision
    }

    func authorize(_ actor: Actor, _ ability: ProjectAbility, _ facts: ProjectAccessFacts) async throws {
        if case .denied(let denial) = await decide(actor, ability, facts) { throw AccessDenied(denial) }
    }

    /// Whether the actor may use `ability`, without recording anything: for what a page or an entity shows (buttons, flags).
    func allows(_ actor: Actor, _ ability: ProjectAbility, _ facts: ProjectAccessFacts) -> Bool {
        AccessPolicy.decide(actor, ability, on: facts).isAllowed
    }

    /// Whether the actor, already allowed `ability` (create_pipeline, update_build) on the project, may use it on `ref`, which
    /// may be protected; `isTag` nil when the ref is only a name (an API or trigger request), which must then pass both kinds.
    func authorize(_ actor: Actor, _ ability: ProjectAbility, _ facts: ProjectAccessFacts, ref: String, isTag: Bool? = nil) async throws {
        let protection = try await refProtection(facts.project, ref: ref, isTag: isTag)
        if case .denied(let denial) = AccessPolicy.decide(actor, ability, on: facts, ref: protection) { throw AccessDenied(denial) }
    }

    /// How `ref` is protected: a branch by the project's protected branch rules, the least role any matching rule lets push or
    /// merge being the least that may run pipelines there (GitLab's `protected_ref_accessible_to?`); a tag by the protected tag
    /// rules, the least role that may create it. A bare name (`isTag` nil) may become either, so it gets the stricter of both.
    func refProtection(_ project: Project, ref: String, isTag: Bool? = nil) async throws -> RefProtection {
        var protections: [RefProtection] = []
        if isTag != false {
            let tags = try await store.protectedTags.rules(projectID: project.id)
            if tags.protects(ref) { protections.append(RefProtection(ref: ref, isProtected: true, allowedLevel: tags.leastLevelToCreate(ref))) }
        }
        if isTag != true {
            let branches = try await store.protectedBranches.rules(projectID: project.id)
            if branches.protects(ref) { protections.append(RefProtection(ref: ref, isProtected: true, allowedLevel: branches.leastLevelToPushOrMerge(ref))) }
        }
        guard let first = protections.first else { return .unprotected(ref) }
        return protections.dropFirst().reduce(first) { stricter, next in
            guard let a = stricter.allowedLevel, let b = next.allowedLevel else { return RefProtection(ref: ref, isProtected: true, allowedLevel: nil) }
            return RefProtection(ref: ref, isProtected: true, allowedLevel: max(a, b))
        }
    }

    /// Every cross-project job token use lands in the target's authentication log; every refusal, in the job's own trace.
    func recordJobTokenUse(_ job: JobActor, _ ability: ProjectAbility, _ target: Project, _ decision: Decision) async {
        ServerMetrics.jobTokenDecision(ability, decision)
        switch decision {
        case .allowed:
            guard job.project.id != target.id else { return }
            do { try await store.jobTokenScope.recordAuthorization(accessed: target.id, origin: job.project.id) } catch {
                logger.error("cannot record a job token authorization", metadata: ["job": "\(job.job.id)", "error.type": "\(type(of: error))"])
            }
        case .denied(let denial):
            let line = JobTokenDenialNotice.line(source: job.project.fullPath, target: target.fullPath, ability: ability, denial: denial)
            do { try traces.appendNotice(jobID: job.job.id, Array(line.utf8)) } catch {
                logger.error("cannot queue a job token refusal for the job's trace", metadata: ["job": "\(job.job.id)", "error": "\(error)"])
            }
            // Shown at once when the trace stands at the end of a line with nothing held back; else after the next line of output.
            if (try? await store.jobs.traceState(jobID: job.job.id))?.held.isEmpty ?? true {
                await traces.flushNoticesBetweenChunks(jobID: job.job.id)
            }
        }
    }

    /// At a job's start, its trace's first line says what its token may use and what a ceiling clamped (nothing when unnarrowed).
    func announceJobTokenPermissions(_ job: Job, project: Project) async {
        do {
            guard let line = JobTokenPermissionsNotice.line(try await jobTokenPermissions(of: job, project: project)) else { return }
            try traces.appendNotice(jobID: job.id, Array(line.utf8))
            await traces.flushNoticesBetweenChunks(jobID: job.id)
        } catch {
            logger.error("cannot write a job's token permissions into its trace", metadata: ["job": "\(job.id)", "error.type": "\(type(of: error))"])
        }
    }

    /// The listing filter for what the actor may see.
    func projectViewer(_ actor: Actor) async throws -> ProjectFilter.Viewer {
        guard let user = actor.user else { return .anonymous }
        if AccessPolicy.seesEveryProject(actor) { return .admin }
        return try await membershipViewer(user)
    }

    /// The listing filter for a user's own memberships (`membership=true`): an administrator too sees only their own then.
    func membershipViewer(_ user: User) async throws -> ProjectFilter.Viewer {
        .user(id: user.id, groupPaths: try await store.members.groupPaths(userID: user.id))
    }

    // MARK: Groups and namespaces

    /// The group named by `:id` with the actor's facts; no decision yet.
    func group(_ rawID: String, for actor: Actor) async throws -> GroupAccessFacts {
        let id = rawID.removingPercentEncoding ?? rawID
        let group: Group? =
            if let number = Int64(id) { try await store.namespaces.group(id: number) } else { try await store.namespaces.group(fullPath: id) }
        guard let group else { throw AccessDenied(.notFound, resource: "Group") }
        return try await facts(for: group, actor: actor)
    }

    /// The group named by `:id`, if the actor may use `ability` on it.
    func group(_ rawID: String, _ ability: GroupAbility, actor: Actor) async throws -> GroupAccessFacts {
        let facts = try await group(rawID, for: actor)
        try authorize(actor, ability, facts)
        return facts
    }

    func facts(for group: Group, actor: Actor) async throws -> GroupAccessFacts {
        var level: AccessLevel?
        if let user = actor.user { level = try await store.members.effectiveLevel(userID: user.id, groupFullPath: group.fullPath) }
        var facts = GroupAccessFacts(group: group, memberLevel: level)
        if level == nil, group.visibility == .private, case .denied = AccessPolicy.decide(actor, .readGroup, on: facts) {
            facts.hasVisibleDescendant = try await hasVisibleProject(under: group, actor: actor)
        }
        return facts
    }

    func authorize(_ actor: Actor, _ ability: GroupAbility, _ facts: GroupAccessFacts) throws {
        if case .denied(let denial) = AccessPolicy.decide(actor, ability, on: facts) { throw AccessDenied(denial, resource: "Group") }
    }

    /// Whether the actor may see the group (for listings).
    func isVisible(_ group: Group, to actor: Actor) async throws -> Bool {
        AccessPolicy.decide(actor, .readGroup, on: try await facts(for: group, actor: actor)).isAllowed
    }

    private func hasVisibleProject(under group: Group, actor: Actor) async throws -> Bool {
        guard let user = actor.user else { return false }
        for project in try await store.projects.projects(underNamespacePath: group.fullPath) {
            if try await store.members.effectiveLevel(userID: user.id, project: project) != nil { return true }
        }
        return false
    }

    /// Where the actor may create a project: a group it may create projects in, or a personal namespace it owns (an administrator:
    /// anyone's). A namespace the actor cannot see is `notFound`; one it sees but may not use is refused by role.
    func authorizeNewProject(in namespace: Namespace, actor: Actor) async throws {
        switch namespace.kind {
        case .group:
            let facts = try await group(String(namespace.id), for: actor)
            if case .denied(let denial) = AccessPolicy.decide(actor, .createProject, on: facts) { throw AccessDenied(denial, resource: "Namespace") }
        case .user:
            if case .denied(let denial) = AccessPolicy.mayCreateProject(actor, inPersonalNamespaceOf: namespace.ownerID) {
                throw AccessDenied(denial, resource: "Namespace")
            }
        }
    }

    // MARK: Members

    /// The project or group whose members a route names (`kind` is "projects" or "groups"), with the actor's facts; no decision yet.
    func membershipTarget(_ rawID: String, groups: Bool, actor: Actor) async throws -> MembershipTarget {
        groups ? .group(try await group(rawID, for: actor)) : .project(try await project(rawID, for: actor))
    }

    func authorizeReadMembers(_ target: MembershipTarget, actor: Actor) throws {
        if case .denied(let denial) = AccessPolicy.mayReadMembers(actor, of: target) { throw AccessDenied(denial, resource: target.resource) }
    }

    /// Whether the actor may manage members at `level` (asked before the member is looked up, as GitLab authorizes first).
    func authorizeManageMembers(_ target: MembershipTarget, at level: AccessLevel, actor: Actor) throws {
        if case .denied(let denial) = AccessPolicy.mayManageMembers(actor, at: level, of: target) { throw AccessDenied(denial, resource: target.resource) }
    }

    /// Whether the actor may make `change` to `memberID`'s membership, with the target's direct members loaded for the last-Owner rule.
    func authorize(_ change: MembershipChange, of memberID: Int64, on target: MembershipTarget, actor: Actor) async throws {
        let source: MemberSource
        let inherits: Bool
        switch target {
        case .project(let facts):
            source = .project(facts.project.id)
            inherits = true
        case .group(let facts):
            source = .group(facts.group.id)
            inherits = facts.group.parentID != nil
        }
        let members = try await store.members.members(source).map(\.membership)
        let facts = MembershipChangeFacts(target: target, memberID: memberID, change: change, directMembers: members, inheritsMembers: inherits)
        if case .denied(let denial) = AccessPolicy.mayChange(actor, facts) { throw AccessDenied(denial, resource: target.resource) }
        if AccessPolicy.removesLastOwner(facts) { throw MembershipError.lastOwner }
    }

    // MARK: Schedules

    /// The schedule's facts: its project's, its owner and how its ref is protected.
    func facts(for schedule: PipelineSchedule, on project: ProjectAccessFacts) async throws -> ScheduleAccessFacts {
        ScheduleAccessFacts(project: project, ownerID: schedule.ownerID, ref: try await refProtection(project.project, ref: schedule.ref))
    }

    func authorize(_ actor: Actor, _ ability: ScheduleAbility, _ facts: ScheduleAccessFacts) throws {
        if case .denied(let denial) = AccessPolicy.decide(actor, ability, on: facts) { throw AccessDenied(denial) }
    }

    /// Whether the schedule's cron run may start as its owner now (membership, block and ref protection as of now).
    func mayRunAsOwner(_ schedule: PipelineSchedule, owner: User, project: Project) async throws -> Decision {
        let projectFacts = try await facts(for: project, actor: .user(UserActor(user: owner, scopes: nil)))
        return AccessPolicy.mayRunScheduleAsOwner(owner, on: try await facts(for: schedule, on: projectFacts))
    }

    // MARK: Users, jobs and the instance

    /// Whether the actor may administer the instance (users, runners, settings).
    func authorizeInstanceAdministration(_ actor: Actor) throws {
        if case .denied(let denial) = AccessPolicy.mayAdministerInstance(actor) { throw AccessDenied(denial) }
    }

    /// Whether the actor may end job `jobID`'s token; someone who cannot see the project learns nothing about its jobs.
    func authorizeJobTokenRevocation(_ actor: Actor, jobID: Int64, on project: Project) async throws {
        let facts = try await facts(for: project, actor: actor)
        if case .denied(let denial) = AccessPolicy.mayRevokeJobToken(actor, jobID: jobID, on: facts) { throw AccessDenied(denial, resource: "Job") }
    }

    func authorize(_ actor: Actor, _ ability: UserAbility, user userID: Int64? = nil) throws {
        if case .denied(let denial) = AccessPolicy.decide(actor, ability, user: userID) { throw AccessDenied(denial, resource: "User") }
    }

    func allows(_ actor: Actor, _ ability: UserAbility, user userID: Int64? = nil) -> Bool {
        AccessPolicy.decide(actor, ability, user: userID).isAllowed
    }

    /// Whether the user, acting as themselves with no scope limit (a trigger's owner, a schedule's owner), may create a pipeline.
    func mayCreatePipeline(as user: User, on project: Project, ref: String, isTag: Bool? = nil) async throws -> Decision {
        let actor = Actor.user(UserActor(user: user, scopes: nil))
        return AccessPolicy.decide(
            actor, .createPipeline, on: try await facts(for: project, actor: actor), ref: try await refProtection(project, ref: ref, isTag: isTag))
    }
}

/// A membership change the rules refuse whoever asks.
enum MembershipError: Error, Sendable, Equatable {
    /// A top-level group must keep at least one Owner.
    case lastOwner
}

extension MembershipTarget {
    /// What a refusal names.
    var resource: String {
        switch self {
        case .project: "Project"
        case .group: "Group"
        }
    }
}

extension APIError {
    /// GitLab's answer to a refusal.
    static func from(_ denied: AccessDenied) -> APIError { .from(denied.denial, resource: denied.resource) }

    static func from(_ error: MembershipError) -> APIError {
        switch error {
        case .lastOwner: APIError(.forbidden, message: "403 Forbidden - A group must have at least one owner")
        }
    }
}
