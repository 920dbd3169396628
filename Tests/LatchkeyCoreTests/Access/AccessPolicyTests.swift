import Foundation
import Testing

@testable import LatchkeyCore

/// The access policy against a reference model written from GitLab's permission tables, not from the policy's code.
@Suite("Access policy decision tables")
struct AccessPolicyTests {
    /// GitLab's least role for each ability on a private project, and whether it is open to anyone who can see a public or internal one.
    static let reference: [ProjectAbility: (least: AccessLevel, open: Bool, kind: Kind)] = [
        .readProject: (.guest, true, .read),
        .readMembers: (.guest, true, .read),
        .adminMembers: (.maintainer, false, .write),
        .manageOwners: (.owner, false, .write),
        .adminProject: (.maintainer, false, .write),
        .removeProject: (.owner, false, .write),
        .destroyPipeline: (.owner, false, .write),
        .downloadCode: (.reporter, true, .gitRead),
        .pushCode: (.developer, false, .gitWrite),
        .readPipeline: (.reporter, true, .read),
        .createPipeline: (.developer, false, .write),
        .readJob: (.reporter, true, .read),
        .updateJob: (.developer, false, .write),
        .updatePipeline: (.developer, false, .write),
        .readJobArtifacts: (.reporter, true, .read),
        .readPipelineSchedule: (.reporter, false, .read),
        .createPipelineSchedule: (.developer, false, .write),
        .adminPipelineSchedule: (.maintainer, false, .write),
        .adminVariables: (.maintainer, false, .write),
        .readPackage: (.reporter, true, .read),
        .createPackage: (.developer, false, .write),
        .readRelease: (.reporter, true, .read),
        .createRelease: (.developer, false, .write),
        .updateRelease: (.developer, false, .write),
        .destroyRelease: (.developer, false, .write),
        .readContainerImage: (.reporter, true, .read),
        .createContainerImage: (.developer, false, .write),
        .adminJobTokenScope: (.maintainer, false, .write),
        .readAuditEvents: (.maintainer, false, .read),
        .readEnvironment: (.reporter, false, .read),
        .adminEnvironment: (.developer, false, .write),
        .readDeployment: (.reporter, false, .read),
        .createDeployment: (.developer, false, .write),
        .destroyDeployment: (.maintainer, false, .write),
        .readSecureFiles: (.developer, false, .read),
        .adminSecureFiles: (.maintainer, false, .write),
    ]

    enum Kind { case read, write, gitRead, gitWrite }

    /// Who asks, in the table's terms.
    enum Who: Hashable, CustomStringConvertible {
        case anonymous
        case user(AccessLevel?, admin: Bool, blocked: Bool)

        var description: String {
            switch self {
            case .anonymous: "anonymous"
            case .user(let level, let admin, let blocked):
                "\(blocked ? "blocked " : "")\(admin ? "admin" : "user") at \(level.map(\.title) ?? "no membership")"
            }
        }
    }

    /// What the model expects, coarsened to what callers act on.
    enum Outcome: Equatable {
        case allowed, notFound, unauthenticated, forbidden, blocked, insufficientScope
    }

    static func model(_ who: Who, scopes: Set<TokenScope>?, visibility: Visibility, ability: ProjectAbility) -> Outcome {
        let rule = reference[ability]!
        switch who {
        case .anonymous:
            guard visibility == .public else { return .notFound }
            return rule.open ? .allowed : .unauthenticated
        case .user(let level, let admin, let blocked):
            if blocked { return .blocked }
            let member = level.map { $0.rawValue >= 10 } ?? false
            if visibility == .private && !member && !admin { return .notFound }
            if let scopes {
                let hasAPI = scopes.contains(.api)
                let readAPI = scopes.contains(.readAPI)
                let allowed: Bool =
                    switch rule.kind {
                    case .read: hasAPI || readAPI
                    case .write: hasAPI
                    case .gitRead: hasAPI || readAPI || scopes.contains(.readRepository) || scopes.contains(.writeRepository)
                    case .gitWrite: hasAPI || scopes.contains(.writeRepository)
                    }
                if !allowed { return .insufficientScope }
            }
            if admin { return .allowed }
            if member, let level, level.rawValue >= rule.least.rawValue { return .allowed }
            if rule.open && visibility != .private { return .allowed }
            return .forbidden
        }
    }

    static func outcome(_ decision: Decision) -> Outcome {
        switch decision {
        case .allowed: .allowed
        case .denied(.notFound): .notFound
        case .denied(.unauthenticated): .unauthenticated
        case .denied(.insufficientRole): .forbidden
        case .denied(.blocked): .blocked
        case .denied(.insufficientScope): .insufficientScope
        case .denied: .forbidden
        }
    }

    static let user = User(
        id: 7, username: "u", name: "U", email: "u@example.com", isAdmin: false, isBlocked: false, createdAt: Date(timeIntervalSince1970: 0))

    static func project(_ visibility: Visibility) -> Project {
        let namespace = Namespace(id: 3, kind: .group, name: "G", path: "g", fullPath: "g", groupID: 3, ownerID: nil)
        return Project(
            id: 11, name: "p", path: "p", namespace: namespace, visibility: visibility, description: "", defaultBranch: "main", creatorID: 1,
            createdAt: Date(timeIntervalSince1970: 0), lastActivityAt: Date(timeIntervalSince1970: 0))
    }

    static let scopeSets: [Set<TokenScope>?] = [
        nil, [.api], [.readAPI], [.readRepository], [.writeRepository], [.readUser], [.readAPI, .writeRepository],
    ]

    @Test("every actor × visibility × level × ability × credential decides as the reference model says")
    func decisionTable() {
        #expect(Set(Self.reference.keys) == Set(ProjectAbility.allCases), "the reference model covers every ability")
        var whos: [Who] = [.anonymous]
        for level in [nil] + AccessLevel.allCases.map(Optional.some) {
            whos.append(.user(level, admin: false, blocked: false))
        }
        whos += [
            .user(nil, admin: true, blocked: false), .user(.developer, admin: true, blocked: false), .user(.owner, admin: false, blocked: true),
            .user(nil, admin: true, blocked: true),
        ]
        var cases = 0
        var mismatches: [String] = []
        for who in whos {
            for visibility in Visibility.allCases {
                for ability in ProjectAbility.allCases {
                    for scopes in who == .anonymous ? [nil] : Self.scopeSets {
                        cases += 1
                        let actor: Actor
                        let level: AccessLevel?
                        switch who {
                        case .anonymous:
                            actor = .anonymous
                            level = nil
                        case .user(let memberLevel, let admin, let blocked):
                            var user = Self.user
                            user.isAdmin = admin
                            user.isBlocked = blocked
                            actor = .user(UserActor(user: user, scopes: scopes))
                            level = memberLevel
                        }
                        let decision = AccessPolicy.decide(
                            actor, ability, on: ProjectAccessFacts(project: Self.project(visibility), memberLevel: level))
                        let expected = Self.model(who, scopes: scopes, visibility: visibility, ability: ability)
                        if Self.outcome(decision) != expected {
                            mismatches.append(
                                "\(who), \(visibility), \(ability.rawValue), scopes \(scopes.map { $0.map(\.rawValue).sorted() } ?? ["password"]): got \(decision), want \(expected)"
                            )
                        }
                    }
                }
            }
        }
        print("AccessPolicy decision table: \(cases) cases, \(mismatches.count) mismatches")
        #expect(cases > 4_000)
        #expect(mismatches.isEmpty, "\(mismatches.prefix(20).joined(separator: "\n"))")
    }

    @Test("a denied role names the level needed and the level held")
    func denialCarriesLevels() {
        let facts = ProjectAccessFacts(project: Self.project(.private), memberLevel: .reporter)
        let decision = AccessPolicy.decide(.user(UserActor(user: Self.user, scopes: nil)), .pushCode, on: facts)
        #expect(decision == .denied(.insufficientRole(required: .developer, actual: .reporter)))
        if case .denied(let denial) = decision { #expect(denial.explanation == "this needs the Developer role or higher; you have Reporter") }
    }

    @Test("personal access token scopes: read_api cannot write, read_repository reads only git, write_repository pushes only git")
    func scopes() {
        let owner = ProjectAccessFacts(project: Self.project(.private), memberLevel: .owner)
        func decide(_ scopes: Set<TokenScope>, _ ability: ProjectAbility) -> Decision {
            AccessPolicy.decide(.user(UserActor(user: Self.user, scopes: scopes)), ability, on: owner)
        }
        #expect(decide([.readAPI], .readPipeline) == .allowed)
        #expect(decide([.readAPI], .createPipeline) == .denied(.insufficientScope(required: .api)))
        #expect(decide([.readAPI], .adminProject) == .denied(.insufficientScope(required: .api)))
        #expect(decide([.readAPI], .pushCode) == .denied(.insufficientScope(required: .writeRepository)))
        #expect(decide([.readAPI], .downloadCode) == .allowed)
        #expect(decide([.readRepository], .downloadCode) == .allowed)
        #expect(decide([.readRepository], .pushCode) == .denied(.insufficientScope(required: .writeRepository)))
        #expect(decide([.readRepository], .readProject) == .denied(.insufficientScope(required: .readAPI)))
        #expect(decide([.readRepository], .readPipeline) == .denied(.insufficientScope(required: .readAPI)))
        #expect(decide([.writeRepository], .pushCode) == .allowed)
        #expect(decide([.writeRepository], .downloadCode) == .allowed)
        #expect(decide([.writeRepository], .createPipeline) == .denied(.insufficientScope(required: .api)))
        #expect(decide([.api], .pushCode) == .allowed)
        #expect(decide([.readUser], .readProject) == .denied(.insufficientScope(required: .readAPI)))

        let reader = UserActor(user: Self.user, scopes: [.readAPI])
        #expect(AccessPolicy.mayUseAPI(reader, write: false) == .allowed)
        #expect(AccessPolicy.mayUseAPI(reader, write: true) == .denied(.insufficientScope(required: .api)))
        #expect(
            AccessPolicy.mayUseAPI(UserActor(user: Self.user, scopes: [.readRepository]), write: false)
                == .denied(.insufficientScope(required: .readAPI)))
        #expect(AccessPolicy.mayUseAPI(UserActor(user: Self.user, scopes: nil), write: true) == .allowed)
    }

    @Test("administering the instance needs an unblocked administrator with the api scope")
    func instanceAdministration() {
        var admin = Self.user
        admin.isAdmin = true
        #expect(AccessPolicy.mayAdministerInstance(.anonymous) == .denied(.unauthenticated))
        #expect(AccessPolicy.mayAdministerInstance(.user(UserActor(user: Self.user, scopes: nil))) != .allowed)
        #expect(AccessPolicy.mayAdministerInstance(.user(UserActor(user: admin, scopes: nil))) == .allowed)
        #expect(AccessPolicy.mayAdministerInstance(.user(UserActor(user: admin, scopes: [.api]))) == .allowed)
        #expect(AccessPolicy.mayAdministerInstance(.user(UserActor(user: admin, scopes: [.readAPI]))) == .denied(.insufficientScope(required: .api)))
        admin.isBlocked = true
        #expect(AccessPolicy.mayAdministerInstance(.user(UserActor(user: admin, scopes: nil))) == .denied(.blocked))
    }

    @Test("groups: private ones are hidden from outsiders, visible through a visible descendant, and administered by role")
    func groups() {
        let group = Group(
            id: 3, name: "G", path: "g", fullPath: "g", fullName: "G", parentID: nil, visibility: .private, description: "", createdAt: Date())
        let outsider = Actor.user(UserActor(user: Self.user, scopes: nil))
        #expect(AccessPolicy.decide(outsider, .readGroup, on: GroupAccessFacts(group: group, memberLevel: nil)) == .denied(.notFound))
        #expect(AccessPolicy.decide(.anonymous, .readGroup, on: GroupAccessFacts(group: group, memberLevel: nil)) == .denied(.notFound))
        #expect(
            AccessPolicy.decide(outsider, .readGroup, on: GroupAccessFacts(group: group, memberLevel: nil, hasVisibleDescendant: true)) == .allowed)
        #expect(
            AccessPolicy.decide(outsider, .createSubgroup, on: GroupAccessFacts(group: group, memberLevel: nil, hasVisibleDescendant: true))
                != .allowed)
        for level in AccessLevel.allCases where level >= .guest {
            let facts = GroupAccessFacts(group: group, memberLevel: level)
            for ability in GroupAbility.allCases {
                let expected = level >= ability.minimumLevel
                #expect(AccessPolicy.decide(outsider, ability, on: facts).isAllowed == expected, "\(level.title) \(ability.rawValue)")
            }
        }
        #expect(GroupAbility.createSubgroup.minimumLevel == .maintainer)
        #expect(GroupAbility.createProject.minimumLevel == .developer)
        var open = group
        open.visibility = .public
        #expect(AccessPolicy.decide(.anonymous, .readGroup, on: GroupAccessFacts(group: open, memberLevel: nil)) == .allowed)
        #expect(AccessPolicy.decide(.anonymous, .adminGroup, on: GroupAccessFacts(group: open, memberLevel: nil)) == .denied(.unauthenticated))
    }
}
