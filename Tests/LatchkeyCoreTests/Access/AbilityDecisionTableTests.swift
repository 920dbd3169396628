import Foundation
import LatchkeyCore
import Testing

/// The abilities once decided ad hoc in handlers (schedules, protected refs, memberships, personal namespaces, user profiles) and
/// the registry scopes, over the whole matrix, against a reference model written from GitLab's policies
/// (`Ci::PipelineSchedulePolicy`, `ref_protected?`, `MemberPolicy`/`Members::DestroyService`, `UserPolicy`, `ProjectPolicy`'s
/// registry rules) — never from `AccessPolicy`'s own helpers.
@Suite("Ability decision tables")
struct AbilityDecisionTableTests {
    // MARK: Who asks

    enum Role: String, CaseIterable, CustomStringConvertible {
        case none, guest, reporter, developer, maintainer, owner, admin, blocked

        var level: AccessLevel? {
            switch self {
            case .none, .admin: nil
            case .guest: .guest
            case .reporter: .reporter
            case .developer, .blocked: .developer
            case .maintainer: .maintainer
            case .owner: .owner
            }
        }

        /// GitLab's numbers, so the model compares integers rather than the policy's `AccessLevel` ordering.
        var rank: Int { level?.rawValue ?? 0 }
        // Not "\(self)": in a type that is CustomStringConvertible that calls this getter again, for ever.
        var description: String { rawValue }
    }

    static let scopeChoices: [Set<TokenScope>?] = [nil, [.api], [.readAPI], [.readRegistry], [.writeRegistry], [.readRepository]]

    static let epoch = Date(timeIntervalSince1970: 0)
    static let me: Int64 = 7
    static let someoneElse: Int64 = 8

    static func actor(_ role: Role, scopes: Set<TokenScope>?) -> Actor {
        .user(UserActor(user: User(id: me, username: "me", name: "Me", email: "me@example.com", isAdmin: role == .admin, isBlocked: role == .blocked, createdAt: epoch), scopes: scopes))
    }

    static func project(_ visibility: Visibility) -> Project {
        let namespace = Namespace(id: 3, kind: .group, name: "g", path: "g", fullPath: "g", groupID: 3, ownerID: nil)
        return Project(
            id: 100, name: "p", path: "p", namespace: namespace, visibility: visibility, description: "", defaultBranch: "main", creatorID: 1, createdAt: epoch,
            lastActivityAt: epoch, jobTokenInboundEnabled: true, jobTokenOutboundEnabled: false, jobTokenPushAllowed: false)
    }

    static func group(_ visibility: Visibility, parent: Int64?) -> Group {
        Group(id: 3, name: "g", path: "g", fullPath: parent == nil ? "g" : "top/g", fullName: "g", parentID: parent, visibility: visibility, description: "", createdAt: epoch)
    }

    /// The outcome the caller acts on.
    enum Outcome: String, Equatable { case allowed, notFound, forbidden, blocked, scope, lastOwner }

    static func outcome(_ decision: Decision) -> Outcome {
        switch decision {
        case .allowed: .allowed
        case .denied(.notFound): .notFound
        case .denied(.blocked): .blocked
        case .denied(.insufficientScope): .scope
        case .denied: .forbidden
        }
    }

    /// GitLab's project rule for a user: blocked first, then visibility (404), then the token's scope, then the role; `least` is
    /// the role a private project needs, `open` whether any viewer of a public or internal project has it.
    static func projectRule(_ role: Role, _ scopes: Set<TokenScope>?, _ visibility: Visibility, least: Int, open: Bool, write: Bool) -> Outcome {
        if role == .blocked { return .blocked }
        let member = role.rank >= 10
        if visibility == .private && !member && role != .admin { return .notFound }
        if let scopes, !(scopes.contains(.api) || (!write && scopes.contains(.readAPI))) { return .scope }
        if role == .admin || role.rank >= least || (open && visibility != .private) { return .allowed }
        return .forbidden
    }

    // MARK: Schedules and protected refs

    /// How the schedule's ref is protected: not at all, Developers may push, only Maintainers, or no one.
    enum Protection: CaseIterable { case none, developers, maintainers, noOne }

    static func refProtection(_ p: Protection) -> RefProtection {
        switch p {
        case .none: .unprotected("main")
        case .developers: RefProtection(ref: "main", isProtected: true, allowedLevel: .developer)
        case .maintainers: RefProtection(ref: "main", isProtected: true, allowedLevel: .maintainer)
        case .noOne: RefProtection(ref: "main", isProtected: true, allowedLevel: nil)
        }
    }

    /// `Ci::PipelineSchedulePolicy` and `ref_protected?`, in the issue's words: read needs Reporter; update the owner (Developer, as
    /// it runs as them) or an administrator; delete the owner or a Maintainer; take ownership a Maintainer; play needs
    /// create_pipeline and, on a protected ref, a role that may push or merge to it (an administrator always).
    static func scheduleModel(_ role: Role, _ scopes: Set<TokenScope>?, _ visibility: Visibility, owns: Bool, _ p: Protection, _ ability: ScheduleAbility) -> Outcome {
        switch ability {
        case .read:
            return projectRule(role, scopes, visibility, least: 20, open: false, write: false)
        case .update:
            let base = projectRule(role, scopes, visibility, least: 30, open: false, write: true)
            guard base == .allowed else { return base }
            return owns || role == .admin ? .allowed : .forbidden
        case .delete:
            let base = projectRule(role, scopes, visibility, least: 20, open: false, write: false)
            guard base == .allowed else { return base }
            return owns ? .allowed : projectRule(role, scopes, visibility, least: 40, open: false, write: true)
        case .takeOwnership:
            return projectRule(role, scopes, visibility, least: 40, open: false, write: true)
        case .play:
            let base = projectRule(role, scopes, visibility, least: 30, open: false, write: true)
            guard base == .allowed, role != .admin else { return base }
            switch p {
            case .none: return .allowed
            case .developers: return role.rank >= 30 ? .allowed : .forbidden
            case .maintainers: return role.rank >= 40 ? .allowed : .forbidden
            case .noOne: return .forbidden
            }
        }
    }

    @Test("every role × credential × visibility × ownership × ref protection × schedule ability decides as the model says")
    func schedules() {
        var cases = 0
        var mismatches: [String] = []
        var seen: Set<Outcome> = []
        for role in Role.allCases {
            for scopes in Self.scopeChoices {
                for visibility in Visibility.allCases {
                    let facts = ProjectAccessFacts(project: Self.project(visibility), memberLevel: role.level)
                    for owns in [false, true] {
                        for protection in Protection.allCases {
                            let schedule = ScheduleAccessFacts(project: facts, ownerID: owns ? Self.me : Self.someoneElse, ref: Self.refProtection(protection))
                            for ability in ScheduleAbility.allCases {
                                cases += 1
                                let got = Self.outcome(AccessPolicy.decide(Self.actor(role, scopes: scopes), ability, on: schedule))
                                let want = Self.scheduleModel(role, scopes, visibility, owns: owns, protection, ability)
                                seen.insert(got)
                                if got != want, mismatches.count < 20 {
                                    mismatches.append("\(ability) by \(role) \(scopes.map { "\($0.map(\.rawValue).sorted())" } ?? "password") on \(visibility), owns \(owns), ref \(protection): got \(got), want \(want)")
                                }
                            }
                        }
                    }
                }
            }
        }
        #expect(cases == 8 * 6 * 3 * 2 * 4 * 5)
        #expect(seen == [.allowed, .notFound, .forbidden, .blocked, .scope])
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
    }

    @Test("the same ref protection limits create_pipeline, update_build and update_pipeline, and nothing else")
    func refProtectionOnProjectAbilities() {
        var mismatches: [String] = []
        for role in Role.allCases where role != .blocked {
            for visibility in Visibility.allCases {
                let facts = ProjectAccessFacts(project: Self.project(visibility), memberLevel: role.level)
                for protection in Protection.allCases {
                    for ability in ProjectAbility.allCases {
                        let actor = Self.actor(role, scopes: nil)
                        let plain = AccessPolicy.decide(actor, ability, on: facts)
                        let got = Self.outcome(AccessPolicy.decide(actor, ability, on: facts, ref: Self.refProtection(protection)))
                        var want = Self.outcome(plain)
                        if want == .allowed, [.createPipeline, .updateJob, .updatePipeline].contains(ability), role != .admin {
                            switch protection {
                            case .none: break
                            case .developers: if role.rank < 30 { want = .forbidden }
                            case .maintainers: if role.rank < 40 { want = .forbidden }
                            case .noOne: want = .forbidden
                            }
                        }
                        if got != want { mismatches.append("\(ability) by \(role) on \(visibility), ref \(protection): got \(got), want \(want)") }
                    }
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(20).joined(separator: "\n"))")
    }

    // MARK: Memberships

    enum TargetKind: CaseIterable { case project, topGroup, subgroup }

    /// The issue's and GitLab's member rules: a member may leave (seeing the members is enough); managing members needs
    /// Maintainer, anything that gives or takes Owner needs Owner; a top-level group's sole Owner can be neither removed nor demoted,
    /// not even by themselves.
    static func membershipModel(_ role: Role, _ visibility: Visibility, _ kind: TargetKind, _ change: MembershipChange, member: Int64, soleOwner: Bool) -> Outcome {
        func touchesOwner(_ levels: [AccessLevel]) -> Bool { levels.contains { $0.rawValue == 50 } }
        let leaving: Bool
        let needed: Int
        switch change {
        case .add(let level):
            leaving = false
            needed = touchesOwner([level]) ? 50 : 40
        case .update(let from, let to):
            leaving = false
            needed = touchesOwner([from, to]) ? 50 : 40
        case .remove(let level):
            leaving = member == me
            needed = leaving ? 10 : (touchesOwner([level]) ? 50 : 40)
        }
        // Reading members is open to whoever sees a public or internal target (projects: read_project_member, groups: read_group).
        let base = projectRule(role, nil, visibility, least: needed, open: leaving, write: !leaving)
        guard base == .allowed else { return base }
        let removesOwner: Bool =
            switch change {
            case .add: false
            case .update(let from, let to): from.rawValue == 50 && to.rawValue != 50
            case .remove(let level): level.rawValue == 50
            }
        if kind == .topGroup, removesOwner, soleOwner { return .lastOwner }
        return .allowed
    }

    static let changes: [MembershipChange] = {
        let levels: [AccessLevel] = [.guest, .developer, .maintainer, .owner]
        var all: [MembershipChange] = levels.map { .add($0) } + levels.map { .remove($0) }
        for from in levels { for to in levels where to != from { all.append(.update(from: from, to: to)) } }
        return all
    }()

    @Test("every role × visibility × target × change × member × sole owner decides as GitLab's member rules say")
    func memberships() {
        var cases = 0
        var mismatches: [String] = []
        var seen: Set<Outcome> = []
        for role in Role.allCases {
            for visibility in Visibility.allCases {
                for kind in TargetKind.allCases {
                    let target: MembershipTarget =
                        switch kind {
                        case .project: .project(ProjectAccessFacts(project: Self.project(visibility), memberLevel: role.level))
                        case .topGroup: .group(GroupAccessFacts(group: Self.group(visibility, parent: nil), memberLevel: role.level))
                        case .subgroup: .group(GroupAccessFacts(group: Self.group(visibility, parent: 1), memberLevel: role.level))
                        }
                    for change in Self.changes {
                        for member in [Self.me, Self.someoneElse] {
                            for soleOwner in [false, true] {
                                cases += 1
                                let owners = soleOwner ? [member] : [member, 99]
                                let direct = owners.map { Membership(userID: $0, accessLevel: .owner, createdAt: Self.epoch) } + [Membership(userID: 50, accessLevel: .developer, createdAt: Self.epoch)]
                                let facts = MembershipChangeFacts(target: target, memberID: member, change: change, directMembers: direct, inheritsMembers: kind != .topGroup)
                                let actor = Self.actor(role, scopes: nil)
                                var got = Self.outcome(AccessPolicy.mayChange(actor, facts))
                                if got == .allowed, AccessPolicy.removesLastOwner(facts) { got = .lastOwner }
                                let want = Self.membershipModel(role, visibility, kind, change, member: member, soleOwner: soleOwner)
                                seen.insert(got)
                                if got != want, mismatches.count < 20 {
                                    mismatches.append("\(change) of \(member == Self.me ? "me" : "another") by \(role) on \(visibility) \(kind), sole owner \(soleOwner): got \(got), want \(want)")
                                }
                            }
                        }
                    }
                }
            }
        }
        #expect(cases == 8 * 3 * 3 * Self.changes.count * 2 * 2)
        #expect(seen == [.allowed, .notFound, .forbidden, .blocked, .lastOwner])
        #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
    }

    // MARK: Personal namespaces and users

    @Test("a personal namespace takes projects from its owner and administrators only; a full profile shows to its user and administrators")
    func namespacesAndUsers() {
        var mismatches: [String] = []
        for role in Role.allCases {
            for scopes in Self.scopeChoices {
                let actor = Self.actor(role, scopes: scopes)
                for owner in [Self.me, Self.someoneElse] {
                    let scopeOK = scopes.map { $0.contains(.api) } ?? true
                    let want: Outcome = role == .blocked ? .blocked : !scopeOK ? .scope : (role == .admin || owner == Self.me) ? .allowed : .forbidden
                    let got = Self.outcome(AccessPolicy.mayCreateProject(actor, inPersonalNamespaceOf: owner))
                    if got != want { mismatches.append("create in \(owner)'s namespace by \(role) \(String(describing: scopes)): got \(got), want \(want)") }

                    // An administrator sees full profiles with an unblocked, api-scoped credential; anyone sees their own.
                    let adminOK = role == .admin && scopeOK
                    let profile: Outcome = adminOK || owner == Self.me ? .allowed : .forbidden
                    let gotProfile = Self.outcome(AccessPolicy.decide(actor, .readFullProfile, user: owner))
                    if gotProfile != profile { mismatches.append("full profile of \(owner) by \(role) \(String(describing: scopes)): got \(gotProfile), want \(profile)") }
                }
            }
        }
        #expect(AccessPolicy.mayCreateProject(.anonymous, inPersonalNamespaceOf: Self.me) == .denied(.unauthenticated))
        #expect(mismatches.isEmpty, "\(mismatches.prefix(20).joined(separator: "\n"))")
    }

    // MARK: Registry

    /// Registry scopes as GitLab's `ProjectPolicy`: `pull` with read_registry, write_registry, read_api or api; `push` with
    /// write_registry or api; the roles as for any other read (Reporter, open on visible projects) and write (Developer).
    @Test("registry pull and push: every role × credential × visibility decides as GitLab's registry scopes say")
    func registry() {
        var mismatches: [String] = []
        for role in Role.allCases {
            for scopes in Self.scopeChoices + [[.readRegistry, .readRepository], [.writeRepository]] {
                for visibility in Visibility.allCases {
                    let facts = ProjectAccessFacts(project: Self.project(visibility), memberLevel: role.level)
                    for push in [false, true] {
                        var want: Outcome
                        if role == .blocked {
                            want = .blocked
                        } else if visibility == .private && role.rank < 10 && role != .admin {
                            want = .notFound
                        } else if let scopes,
                            !(push
                                ? scopes.contains(.writeRegistry) || scopes.contains(.api)
                                : scopes.contains(.readRegistry) || scopes.contains(.writeRegistry) || scopes.contains(.readAPI) || scopes.contains(.api))
                        {
                            want = .scope
                        } else if role == .admin || role.rank >= (push ? 30 : 20) || (!push && visibility != .private) {
                            want = .allowed
                        } else {
                            want = .forbidden
                        }
                        let got = Self.outcome(AccessPolicy.decide(Self.actor(role, scopes: scopes), push ? .createContainerImage : .readContainerImage, on: facts))
                        if got != want { mismatches.append("\(push ? "push" : "pull") by \(role) \(String(describing: scopes)) on \(visibility): got \(got), want \(want)") }
                    }
                }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(20).joined(separator: "\n"))")
    }
}
