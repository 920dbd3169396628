import Foundation
import LatchkeyCore
import Testing

/// A job token's access decision over the whole matrix, against a reference model written from issue 4, gitlab-compat.md §3–§4,
/// the seed and issue 16's `permissions:` — never from `AccessPolicy`'s own helpers.
@Suite("Job token decision table")
struct JobTokenDecisionTableTests {
    // MARK: The reference model

    /// What a job token may do with one ability: the least role on a private project, whether anyone who can see a public or
    /// internal project has it anyway, the fine-grained policy an allowlist entry must grant, and whether it reaches only the
    /// job's own project. Abilities missing here are not job-token abilities at all (gitlab-compat.md §3).
    struct Rule {
        var least: AccessLevel
        var openOnVisible: Bool
        var policy: JobTokenPolicy?
        var ownProjectOnly = false
    }

    static let rules: [ProjectAbility: Rule] = [
        .readProject: Rule(least: .guest, openOnVisible: true, policy: nil),
        .downloadCode: Rule(least: .reporter, openOnVisible: true, policy: .readRepositories),
        .readPipeline: Rule(least: .reporter, openOnVisible: true, policy: .readPipelines),
        // The trigger API creates the pipeline as the job's user, who needs Developer, as for any pipeline.
        .createPipeline: Rule(least: .developer, openOnVisible: false, policy: .adminPipelines),
        // `PUT …/pipelines/:id/metadata` (GitLab's job-token table; `admin_pipelines`).
        .updatePipeline: Rule(least: .developer, openOnVisible: false, policy: .adminPipelines),
        .readJob: Rule(least: .reporter, openOnVisible: true, policy: .readJobs),
        .readJobArtifacts: Rule(least: .reporter, openOnVisible: true, policy: .readJobs),
        .readPackage: Rule(least: .reporter, openOnVisible: true, policy: .readPackages),
        .createPackage: Rule(least: .developer, openOnVisible: false, policy: .adminPackages),
        .readRelease: Rule(least: .reporter, openOnVisible: true, policy: .readReleases),
        .createRelease: Rule(least: .developer, openOnVisible: false, policy: .adminReleases),
        // Release links' update and delete (GitLab: `job_token_policies: :admin_releases`).
        .updateRelease: Rule(least: .developer, openOnVisible: false, policy: .adminReleases),
        .destroyRelease: Rule(least: .developer, openOnVisible: false, policy: .adminReleases),
        // An entry with fine-grained permissions admits registry `pull` only with read_containers (issue 11 #8).
        .readContainerImage: Rule(least: .reporter, openOnVisible: true, policy: .readContainers),
        .createContainerImage: Rule(least: .developer, openOnVisible: false, policy: nil, ownProjectOnly: true),
        // gitlab-compat.md §6: only to the job's own project, only with `ci_push_repository_for_job_token_allowed`, Developer.
        .pushCode: Rule(least: .developer, openOnVisible: false, policy: nil, ownProjectOnly: true),
        // Environments and deployments: every endpoint in GitLab's job-token table, with their fine-grained policies.
        .readEnvironment: Rule(least: .reporter, openOnVisible: false, policy: .readEnvironments),
        .adminEnvironment: Rule(least: .developer, openOnVisible: false, policy: .adminEnvironments),
        .readDeployment: Rule(least: .reporter, openOnVisible: false, policy: .readDeployments),
        .createDeployment: Rule(least: .developer, openOnVisible: false, policy: .adminDeployments),
        .destroyDeployment: Rule(least: .maintainer, openOnVisible: false, policy: .adminDeployments),
        // Secure files: download with a job token is the reason they exist.
        .readSecureFiles: Rule(least: .developer, openOnVisible: false, policy: .readSecureFiles),
        .adminSecureFiles: Rule(least: .maintainer, openOnVisible: false, policy: .adminSecureFiles),
    ]

    /// What a job's `permissions:` must grant for each ability (issue 16): a resource and a level, `write` including `read`. Abilities
    /// missing here need nothing (the project itself, which every job token may read).
    static let permissionNeeded: [ProjectAbility: (resource: String, level: Int)] = [
        .downloadCode: ("repository", 1), .pushCode: ("repository", 2), .readJob: ("jobs", 1), .readJobArtifacts: ("jobs", 1),
        .readPipeline: ("pipelines", 1), .createPipeline: ("pipelines", 2), .updatePipeline: ("pipelines", 2), .readPackage: ("packages", 1), .createPackage: ("packages", 2),
        .readRelease: ("releases", 1), .createRelease: ("releases", 2), .updateRelease: ("releases", 2), .destroyRelease: ("releases", 2),
        .readContainerImage: ("container_registry", 1),
        .createContainerImage: ("container_registry", 2),
        .readEnvironment: ("deployments", 1), .adminEnvironment: ("deployments", 2), .readDeployment: ("deployments", 1),
        .createDeployment: ("deployments", 2), .destroyDeployment: ("deployments", 2),
        .readSecureFiles: ("secure_files", 1), .adminSecureFiles: ("secure_files", 2),
    ]

    /// The job's `permissions:` and the ceilings over them, in the model's terms: each as the text a user writes (nil: not set).
    enum TokenPermissions: String, CaseIterable, CustomStringConvertible {
        /// No `permissions:`, no ceiling: nothing changes.
        case undeclared
        /// `permissions:` names exactly what the ability needs.
        case declaresNeeded
        /// `permissions: read-all`.
        case declaresReadAll
        /// `permissions: {}`.
        case declaresNothing
        /// `permissions:` grants every other resource at write, not the one needed.
        case declaresOthers
        /// `write-all` asked, the project's ceiling read-only: clamped.
        case projectCeilingReadOnly
        /// Nothing asked, the instance's ceiling `repository: read` only.
        case instanceCeilingRepositoryRead

        var texts: (declared: String?, project: String?, instance: String?) {
            switch self {
            case .undeclared: (nil, nil, nil)
            case .declaresNeeded, .declaresOthers: (nil, nil, nil)  // per ability, see `texts(for:)`
            case .declaresReadAll: ("read-all", nil, nil)
            case .declaresNothing: ("none", nil, nil)
            case .projectCeilingReadOnly: ("write-all", "read-all", nil)
            case .instanceCeilingRepositoryRead: (nil, nil, "repository: read")
            }
        }

        static let resources = ["repository", "jobs", "pipelines", "packages", "releases", "container_registry"]

        func texts(for ability: ProjectAbility) -> (declared: String?, project: String?, instance: String?) {
            let needed = JobTokenDecisionTableTests.permissionNeeded[ability]
            switch self {
            case .declaresNeeded:
                guard let needed else { return ("none", nil, nil) }
                return ("\(needed.resource): \(needed.level == 2 ? "write" : "read")", nil, nil)
            case .declaresOthers:
                let others = Self.resources.filter { $0 != needed?.resource }.map { "\($0): \($0 == "jobs" ? "read" : "write")" }
                return (others.joined(separator: ", "), nil, nil)
            default:
                return texts
            }
        }

        /// The level each text grants a resource (0 none, 1 read, 2 write), read the way the README documents them.
        static func level(_ text: String, _ resource: String) -> Int {
            switch text {
            case "read-all": return 1
            case "write-all": return resource == "jobs" ? 1 : 2
            case "none": return 0
            default:
                for entry in text.split(separator: ",") {
                    let parts = entry.split(separator: ":").map { $0.trimmingCharacters(in: .whitespaces) }
                    if parts[0] == resource { return ["none": 0, "read": 1, "write": 2][parts[1]]! }
                }
                return 0
            }
        }

        // Not "\(self)": in a type that is CustomStringConvertible that calls this getter again, for ever.
        var description: String { rawValue }
    }

    /// The write policy that also grants each read policy.
    static let writeTwin: [JobTokenPolicy: JobTokenPolicy] = [
        .readJobs: .adminJobs, .readPipelines: .adminPipelines, .readPackages: .adminPackages, .readReleases: .adminReleases,
        .readDeployments: .adminDeployments, .readEnvironments: .adminEnvironments, .readSecureFiles: .adminSecureFiles,
        .readTerraformState: .adminTerraformState,
    ]

    /// The job's user, in the table's terms.
    enum Role: CaseIterable, CustomStringConvertible {
        case none, guest, planner, reporter, developer, maintainer, owner, admin, blocked

        /// The user's effective level on the target (an administrator is not a member; a blocked user would be a Developer).
        var level: AccessLevel? {
            switch self {
            case .none, .admin: nil
            case .guest: .guest
            case .planner: .planner
            case .reporter: .reporter
            case .developer, .blocked: .developer
            case .maintainer: .maintainer
            case .owner: .owner
            }
        }

        var description: String {
            switch self {
            case .none: "non-member"
            case .admin: "admin (non-member)"
            case .blocked: "blocked Developer"
            default: level!.title
            }
        }
    }

    /// "Limit access to this project" on the target.
    enum Limit: CaseIterable { case off, on, enforcedByInstance }

    /// What the target's inbound allowlist holds.
    enum Listing: CaseIterable {
        /// The job's project itself.
        case project
        /// The group the job's project lives in.
        case namespaceGroup
        /// The top group above the job's project.
        case ancestorGroup
        /// Nothing but entries that look close and must not admit: another project, a sibling group, a subgroup below the
        /// job's namespace, and groups whose paths are string prefixes of the job's namespace.
        case decoys
        case none
    }

    /// The permissions every entry on the list carries.
    enum Permissions: CaseIterable { case defaults, withNeeded, withWriteTwin, without }

    /// The job's own project's legacy "Limit access from this project".
    enum Outbound: CaseIterable { case off, onTargetListed, onTargetUnlisted }

    struct Case: CustomStringConvertible {
        var role: Role
        var visibility: Visibility
        var sameProject: Bool
        var limit: Limit
        var listing: Listing
        var permissions: Permissions
        var outbound: Outbound
        var pushAllowed: Bool
        var status: JobStatus
        var ability: ProjectAbility
        var tokenPermissions: TokenPermissions = .undeclared

        var description: String {
            let scope = sameProject ? "own project" : "other project, limit \(limit), list \(listing), permissions \(permissions)"
            return "\(ability.rawValue) by a \(status) job of a \(role) on a \(visibility) \(scope), outbound \(outbound), push allowed \(pushAllowed), "
                + "token permissions \(tokenPermissions)"
        }
    }

    static func policies(_ permissions: Permissions, for ability: ProjectAbility) -> (defaults: Bool, policies: Set<JobTokenPolicy>) {
        let needed = rules[ability]?.policy
        switch permissions {
        case .defaults: return (true, [])
        case .withNeeded: return (false, needed.map { [$0] } ?? [])
        case .withWriteTwin: return (false, needed.map { [writeTwin[$0] ?? $0] } ?? [])
        case .without:
            let admitting: Set<JobTokenPolicy> = needed.map { [$0, writeTwin[$0] ?? $0] } ?? []
            return (false, Set(JobTokenPolicy.allCases).subtracting(admitting))
        }
    }

    /// The decision the issue's rules give, with the denial that picks the HTTP answer: 401 for a dead job, 403 for a blocked
    /// user, 404 when the job's user cannot see the target, a scope refusal (403) only when they could.
    static func expected(_ c: Case) -> Decision {
        // A finished, pending or created job's token is dead (valid only while running or canceling).
        guard c.status == .running || c.status == .canceling else { return .denied(.jobNotRunning) }
        // GitLab refuses a blocked user's every credential before looking at the target.
        if c.role == .blocked { return .denied(.blocked) }
        let level = c.role.level
        let canSee = c.role == .admin || level != nil || c.visibility != .private
        guard canSee else { return .denied(.notFound) }
        guard let rule = rules[c.ability] else { return .denied(.notAJobTokenAbility(c.ability)) }
        // The job's own `permissions:`, then the project's ceiling, then the instance's: whichever grants less than the ability
        // needs refuses it, naming what was needed, before any scope is looked at.
        if let needed = permissionNeeded[c.ability] {
            let texts = c.tokenPermissions.texts(for: c.ability)
            let limits: [(String?, JobTokenPermissionLimit)] = [(texts.declared, .job), (texts.project, .project), (texts.instance, .instance)]
            for (text, limit) in limits {
                if let text, TokenPermissions.level(text, needed.resource) < needed.level {
                    let permission = JobTokenPermission(JobTokenResource(rawValue: needed.resource)!, needed.level == 2 ? .write : .read)
                    return .denied(.jobTokenPermissionMissing(permission, limitedBy: limit))
                }
            }
        }
        let refusedByScope = Decision.denied(.jobTokenScope(source: sourcePath, target: c.sameProject ? sourcePath : targetPath))

        var byRole: Decision {
            if c.role == .admin { return .allowed }
            if let level, level >= rule.least { return .allowed }
            if rule.openOnVisible && c.visibility != .private { return .allowed }
            return .denied(.insufficientRole(required: rule.least, actual: level))
        }

        if rule.ownProjectOnly {
            guard c.sameProject else { return refusedByScope }
            if c.ability == .pushCode && !c.pushAllowed { return .denied(.notAJobTokenAbility(.pushCode)) }
            return byRole
        }
        guard !c.sameProject else { return byRole }
        // The scope restricts only what needs membership: what any signed-in user may read on a public or internal project stays
        // readable, allowlisted or not.
        if c.visibility != .private && rule.openOnVisible { return byRole }
        // The legacy outbound scope guards private targets only (the seed: "If project B is public or internal, you do not need
        // to add B to the allowlist"; GitLab's Ci::JobToken::Scope#outbound_accessible? returns true unless the target is private).
        if c.outbound == .onTargetUnlisted && c.visibility == .private {
            return .denied(.jobTokenOutboundScope(source: sourcePath, target: targetPath))
        }
        if c.limit != .off {
            switch c.listing {
            case .project, .namespaceGroup, .ancestorGroup: break
            case .decoys, .none: return refusedByScope
            }
            if let needed = rule.policy, c.permissions != .defaults {
                let granted = policies(c.permissions, for: c.ability).policies
                guard granted.contains(needed) || writeTwin[needed].map(granted.contains) == true else {
                    return .denied(.jobTokenPolicyMissing(needed))
                }
            }
        }
        return byRole
    }

    static func httpStatus(_ decision: Decision) -> Int {
        switch decision {
        case .allowed: 200
        case .denied(.jobNotRunning), .denied(.unauthenticated): 401
        case .denied(.notFound): 404
        case .denied: 403
        }
    }

    // MARK: Facts, built the way the server builds them

    static let epoch = Date(timeIntervalSince1970: 0)
    static let sourcePath = "team-b/sub/b"
    static let targetPath = "scope-a/a"

    static func group(_ id: Int64, _ fullPath: String, parent: Int64?) -> Group {
        let path = String(fullPath.split(separator: "/").last!)
        return Group(id: id, name: path, path: path, fullPath: fullPath, fullName: fullPath, parentID: parent, visibility: .private, description: "", createdAt: epoch)
    }

    static let teamB = group(20, "team-b", parent: nil)
    static let sub = group(21, "team-b/sub", parent: 20)
    static let decoyGroups = [
        group(22, "team-b/other", parent: 20), group(23, "team-b/sub/deeper", parent: 21), group(24, "team-b/su", parent: 20), group(25, "team", parent: nil),
    ]

    static func project(id: Int64, path: String, in group: Group, visibility: Visibility, inbound: Bool, outbound: Bool, push: Bool) -> Project {
        let namespace = Namespace(id: group.id, kind: .group, name: group.name, path: group.path, fullPath: group.fullPath, groupID: group.id, ownerID: nil)
        return Project(
            id: id, name: path, path: path, namespace: namespace, visibility: visibility, description: "", defaultBranch: "main", creatorID: 1,
            createdAt: epoch, lastActivityAt: epoch, jobTokenInboundEnabled: inbound, jobTokenOutboundEnabled: outbound, jobTokenPushAllowed: push)
    }

    enum Entry {
        case project(Int64)
        case group(Group)
    }

    /// The target's allowlist for a case.
    static func entries(_ listing: Listing) -> [Entry] {
        switch listing {
        case .project: [.project(100)]
        case .namespaceGroup: [.group(sub)]
        case .ancestorGroup: [.group(teamB)]
        case .decoys: [.project(300)] + decoyGroups.map { .group($0) }
        case .none: []
        }
    }

    /// The entry (or entries, merged) that admit the job's project: the project itself, or a group that is its namespace or an
    /// ancestor of it — compared by whole path segments, so `team-b/su` is no ancestor of `team-b/sub`.
    static func grant(admitting source: Project, _ entries: [Entry], defaults: Bool, policies: Set<JobTokenPolicy>) -> AllowlistGrant? {
        let segments = source.namespace.fullPath.split(separator: "/")
        let ancestors = Set((1...segments.count).map { segments.prefix($0).joined(separator: "/") })
        let admits = entries.contains { entry in
            switch entry {
            case .project(let id): id == source.id
            case .group(let group): ancestors.contains(group.fullPath)
            }
        }
        return admits ? AllowlistGrant(defaultPermissions: defaults, policies: policies) : nil
    }

    static func user(_ role: Role) -> User {
        User(id: 7, username: "builder", name: "Builder", email: "builder@example.com", isAdmin: role == .admin, isBlocked: role == .blocked, createdAt: epoch)
    }

    static func job(_ status: JobStatus) -> Job {
        Job(
            id: 9, pipelineID: 8, projectID: 100, name: "probe", stage: "test", stageIndex: 0, status: status, definition: JobDefinition(name: "probe", script: ["true"]),
            userID: 7, retried: false, runnerID: 1, failureReason: nil, createdAt: epoch, queuedAt: epoch, startedAt: epoch, finishedAt: nil, updatedAt: epoch)
    }

    /// The permission modes a case runs under: every one with the outbound scope off, only `undeclared` beside the other outbound
    /// settings (the two rules do not meet, and the full cross product would take minutes on a loaded machine).
    static func tokenPermissionModes(outbound: Outbound) -> [TokenPermissions] {
        outbound == .off ? TokenPermissions.allCases : [.undeclared]
    }

    /// Under a declaration or a ceiling, a live job in both live states and one dead job; undeclared, every state.
    static func covers(_ status: JobStatus, _ mode: TokenPermissions) -> Bool {
        mode == .undeclared || status == .running || status == .canceling || status == .success
    }

    /// The facts the server loads for a mode: the job's declaration and the ceilings, parsed from the text a user writes.
    static func permissionFacts(_ mode: TokenPermissions, _ ability: ProjectAbility) -> JobTokenPermissionFacts? {
        let texts = mode.texts(for: ability)
        func parsed(_ text: String?) -> JobTokenPermissions? { text.map { try! JobTokenPermissions.parse(text: $0).get() } }
        return JobTokenPermissionFacts(declared: parsed(texts.declared), projectCeiling: parsed(texts.project), instanceCeiling: parsed(texts.instance))
    }

    // MARK: The table

    @Test("every role × visibility × project × scope setting × allowlist × permissions × outbound × job state × ability decides as the model says")
    func decisionTable() {
        let jobs = JobStatus.allCases.map { Self.job($0) }
        var cases = 0
        var mismatchCount = 0
        var mismatches: [String] = []
        var seen: [String: Int] = [:]
        func check(_ c: Case, _ actor: JobActor, _ facts: ProjectAccessFacts) {
            cases += 1
            let got = AccessPolicy.decide(.job(actor), c.ability, on: facts)
            let want = Self.expected(c)
            if got != want || Self.httpStatus(got) != Self.httpStatus(want) {
                mismatchCount += 1
                if mismatches.count < 25 { mismatches.append("\(c): got \(got), want \(want)") }
            }
            seen[Self.kind(got), default: 0] += 1
        }
        for role in Role.allCases {
            let user = Self.user(role)
            for visibility in Visibility.allCases {
                for outbound in Outbound.allCases {
                    // The job reaching its own project: the server passes no scope facts, and no scope setting may matter.
                    for pushAllowed in [false, true] {
                        for limit in Limit.allCases {
                            let own = Self.project(
                                id: 100, path: "b", in: Self.sub, visibility: visibility, inbound: limit == .on, outbound: outbound != .off, push: pushAllowed)
                            for tokenPermissions in Self.tokenPermissionModes(outbound: outbound) {
                                for (status, job) in zip(JobStatus.allCases, jobs) where Self.covers(status, tokenPermissions) {
                                    let actor = JobActor(job: job, project: own, user: user)
                                    for ability in ProjectAbility.allCases {
                                        let facts = ProjectAccessFacts(
                                            project: own, memberLevel: role.level, jobTokenPermissions: Self.permissionFacts(tokenPermissions, ability))
                                        let c = Case(
                                            role: role, visibility: visibility, sameProject: true, limit: limit, listing: .none, permissions: .defaults,
                                            outbound: outbound, pushAllowed: pushAllowed, status: status, ability: ability, tokenPermissions: tokenPermissions)
                                        check(c, actor, facts)
                                    }
                                }
                            }
                        }
                    }
                    // Another project: the job's project is private, in team-b/sub; the target, scope-a/a, varies.
                    let source = Self.project(id: 100, path: "b", in: Self.sub, visibility: .private, inbound: true, outbound: outbound != .off, push: false)
                    for limit in Limit.allCases {
                        let target = Self.project(
                            id: 200, path: "a", in: Self.group(30, "scope-a", parent: nil), visibility: visibility, inbound: limit == .on, outbound: false,
                            push: true)
                        for listing in Listing.allCases {
                            for permissions in Permissions.allCases {
                                for ability in ProjectAbility.allCases {
                                    let (defaults, policies) = Self.policies(permissions, for: ability)
                                    let scope = JobTokenScopeFacts(
                                        inboundEnabled: target.jobTokenInboundEnabled || limit == .enforcedByInstance,
                                        grant: Self.grant(admitting: source, Self.entries(listing), defaults: defaults, policies: policies),
                                        outboundAllows: outbound != .onTargetUnlisted)
                                    for tokenPermissions in Self.tokenPermissionModes(outbound: outbound) {
                                        let facts = ProjectAccessFacts(
                                            project: target, memberLevel: role.level, jobTokenScope: scope,
                                            jobTokenPermissions: Self.permissionFacts(tokenPermissions, ability))
                                        for (status, job) in zip(JobStatus.allCases, jobs) where Self.covers(status, tokenPermissions) {
                                            let c = Case(
                                                role: role, visibility: visibility, sameProject: false, limit: limit, listing: listing, permissions: permissions,
                                                outbound: outbound, pushAllowed: true, status: status, ability: ability, tokenPermissions: tokenPermissions)
                                            check(c, JobActor(job: job, project: source, user: user), facts)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        print("decision table: \(cases) cases")
        print("decision table outcomes: \(seen.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))")
        #expect(cases > 1_500_000)
        // Every outcome the model knows occurs, so the table exercises each rule rather than agreeing on a constant.
        #expect(
            Set(seen.keys)
                == [
                    "allowed", "blocked", "insufficientRole", "jobNotRunning", "jobTokenOutboundScope", "jobTokenPermissionMissing", "jobTokenPolicyMissing",
                    "jobTokenScope", "notAJobTokenAbility", "notFound",
                ])
        #expect(mismatchCount == 0, "\(mismatchCount) mismatches, the first:\n\(mismatches.joined(separator: "\n"))")
    }

    static func kind(_ decision: Decision) -> String {
        switch decision {
        case .allowed: "allowed"
        case .denied(let denial):
            switch denial {
            case .unauthenticated: "unauthenticated"
            case .notFound: "notFound"
            case .insufficientRole: "insufficientRole"
            case .insufficientScope: "insufficientScope"
            case .blocked: "blocked"
            case .jobTokenScope: "jobTokenScope"
            case .jobTokenOutboundScope: "jobTokenOutboundScope"
            case .jobTokenPolicyMissing: "jobTokenPolicyMissing"
            case .jobTokenPermissionMissing: "jobTokenPermissionMissing"
            case .notAJobTokenAbility: "notAJobTokenAbility"
            case .jobNotRunning: "jobNotRunning"
            case .botAccount: "botAccount"
            }
        }
    }

    // MARK: The model itself, pinned to the issue's sentences

    static func model(
        _ role: Role, _ visibility: Visibility, limit: Limit = .on, listing: Listing = .none, permissions: Permissions = .defaults,
        outbound: Outbound = .off, status: JobStatus = .running, tokenPermissions: TokenPermissions = .undeclared, sameProject: Bool = false,
        _ ability: ProjectAbility = .downloadCode
    ) -> Int {
        httpStatus(
            expected(
                Case(
                    role: role, visibility: visibility, sameProject: sameProject, limit: limit, listing: listing, permissions: permissions, outbound: outbound,
                    pushAllowed: false, status: status, ability: ability, tokenPermissions: tokenPermissions)))
    }

    @Test("the reference model answers the issue's examples: 404 unseen, 403 refused by scope, 401 dead, 200 admitted")
    func modelMatchesTheIssue() {
        // "when T is private and the user is not a member, 404 as for anyone else"
        #expect(Self.model(.none, .private) == 404)
        #expect(Self.model(.none, .private, listing: .project) == 404)
        // A Reporter of private A, B not on A's list: GitLab's 403 "not allowed from S to T".
        #expect(Self.model(.reporter, .private) == 403)
        #expect(Self.model(.reporter, .private, listing: .project) == 200)
        #expect(Self.model(.reporter, .private, listing: .ancestorGroup) == 200)
        #expect(Self.model(.reporter, .private, listing: .decoys) == 403)
        #expect(Self.model(.reporter, .private, limit: .off) == 200)
        #expect(Self.model(.reporter, .private, limit: .enforcedByInstance) == 403)
        // "Public and internal projects stay readable ... allowlisted or not — the scope restricts only what needs membership."
        #expect(Self.model(.none, .public) == 200)
        #expect(Self.model(.none, .internal, outbound: .onTargetUnlisted) == 200)
        #expect(Self.model(.developer, .public, .createPackage) == 403)
        #expect(Self.model(.developer, .public, listing: .namespaceGroup, .createPackage) == 200)
        // Fine-grained permissions.
        #expect(Self.model(.reporter, .private, listing: .project, permissions: .without) == 403)
        #expect(Self.model(.reporter, .private, listing: .project, permissions: .withNeeded) == 200)
        #expect(Self.model(.reporter, .private, listing: .project, permissions: .withWriteTwin, .readJob) == 200)
        // Legacy outbound scope.
        #expect(Self.model(.reporter, .private, limit: .off, outbound: .onTargetUnlisted) == 403)
        #expect(Self.model(.reporter, .private, limit: .off, outbound: .onTargetListed) == 200)
        // A dead job's token is unknown: 401, whatever else holds.
        for status in JobStatus.allCases where status != .running && status != .canceling {
            #expect(Self.model(.owner, .public, limit: .off, status: status) == 401)
        }
        #expect(Self.model(.reporter, .private, listing: .project, status: .canceling) == 200)
        // Issue 16: `permissions: {repository: read}` clones but does not publish a package; a ceiling clamps what YAML asks.
        #expect(Self.model(.developer, .private, tokenPermissions: .declaresNeeded, sameProject: true, .downloadCode) == 200)
        #expect(Self.model(.developer, .private, tokenPermissions: .declaresReadAll, sameProject: true, .createPackage) == 403)
        #expect(Self.model(.developer, .private, tokenPermissions: .declaresNothing, sameProject: true, .downloadCode) == 403)
        #expect(Self.model(.developer, .private, tokenPermissions: .declaresNothing, sameProject: true, .readProject) == 200)
        #expect(Self.model(.developer, .private, tokenPermissions: .projectCeilingReadOnly, sameProject: true, .readPackage) == 200)
        #expect(Self.model(.developer, .private, tokenPermissions: .projectCeilingReadOnly, sameProject: true, .createRelease) == 403)
        #expect(Self.model(.developer, .private, tokenPermissions: .instanceCeilingRepositoryRead, sameProject: true, .readPackage) == 403)
        // A narrowed token still cannot see what its user cannot, and a dead one stays dead.
        #expect(Self.model(.none, .private, listing: .project, tokenPermissions: .declaresNothing) == 404)
        #expect(Self.model(.owner, .public, status: .success, tokenPermissions: .declaresNothing) == 401)
        let refused = Self.expected(
            Case(
                role: .developer, visibility: .private, sameProject: true, limit: .on, listing: .none, permissions: .defaults, outbound: .off,
                pushAllowed: false, status: .running, ability: .createPackage, tokenPermissions: .projectCeilingReadOnly))
        #expect(refused == .denied(.jobTokenPermissionMissing(JobTokenPermission(.packages, .write), limitedBy: .project)))
    }

    @Test("every job-token ability but reading the project itself is bounded by permissions: (a new one cannot slip past the ceiling)")
    func everyJobTokenAbilityHasAPermission() {
        for ability in ProjectAbility.allCases where ability.isJobTokenAbility && ability != .readProject {
            #expect(ability.jobTokenPermission != nil, "\(ability) has no permissions: resource")
            #expect(Self.permissionNeeded[ability] != nil, "\(ability) is missing from the model's table")
        }
    }
}
