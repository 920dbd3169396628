import Foundation
import LatchkeyCore
import LatchkeyStore
import LatchkeyTestSupport
import Logging
import Testing

@testable import LatchkeyServer

/// Membership expiry through the one path every route takes: real memberships in a real database, facts loaded by the
/// `Authorizer`, decided by `AccessPolicy`, against a model that knows only GitLab's rule (a membership ends at the start of its
/// expiry day, UTC) and the least role of each ability.
@Suite("Authorizer membership expiry table")
struct AuthorizerExpiryTableTests {
    enum Expiry: CaseIterable { case never, past, today, tomorrow }

    static func day(_ expiry: Expiry) -> String? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        switch expiry {
        case .never: return nil
        case .past: return "2000-01-01"
        case .today: return formatter.string(from: Date())
        case .tomorrow: return formatter.string(from: Date().addingTimeInterval(86_400 * 2))
        }
    }

    /// GitLab's least role per ability on a private project (the model's own table, not `ProjectAbility.minimumLevel`).
    static let least: [ProjectAbility: Int] = [
        .readProject: 10, .readMembers: 10, .downloadCode: 20, .readPipeline: 20, .readJob: 20, .readJobArtifacts: 20, .readPackage: 20,
        .readRelease: 20, .readContainerImage: 20, .readPipelineSchedule: 20, .pushCode: 30, .createPipeline: 30, .updateJob: 30, .updatePipeline: 30,
        .createPipelineSchedule: 30, .createPackage: 30, .createRelease: 30, .updateRelease: 30, .destroyRelease: 30, .createContainerImage: 30, .adminMembers: 40, .adminProject: 40,
        .adminPipelineSchedule: 40, .adminVariables: 40, .adminJobTokenScope: 40, .readAuditEvents: 40, .readEnvironment: 20, .adminEnvironment: 30, .readDeployment: 20, .createDeployment: 30, .destroyDeployment: 40, .readSecureFiles: 30, .adminSecureFiles: 40, .manageOwners: 50, .removeProject: 50, .destroyPipeline: 50,
    ]

    @Test("a project or group membership grants its level until its expiry day, for every ability, on either backend", arguments: TestBackend.all)
    func expiryTable(backend: TestBackend) async throws {
        try await withTestDatabase(backend) { database, directory in
            let store = Store(database: database)
            let authorizer = Authorizer(store: store, traces: TraceStore(root: directory.appendingPathComponent("traces")), logger: Logger(label: "test"))
            let owner = try await store.users.create(NewUser(username: "owner", name: "Owner", email: "o@example.com", passwordHash: nil, isAdmin: false))
            let group = try await store.namespaces.createGroup(
                NewGroup(name: "Team", path: "team", parentID: nil, visibility: .private, description: ""), creatorID: owner.id)
            let project = try await store.projects.create(
                NewProject(name: "app", path: "app", namespaceID: group.id, visibility: .private, description: "", defaultBranch: "main"), creatorID: owner.id)
            var cases = 0
            var mismatches: [String] = []
            var n = 0
            for viaGroup in [false, true] {
                for level in [AccessLevel.guest, .reporter, .developer, .maintainer, .owner] {
                    for expiry in Expiry.allCases {
                        n += 1
                        let user = try await store.users.create(
                            NewUser(username: "u\(n)", name: "U\(n)", email: "u\(n)@example.com", passwordHash: nil, isAdmin: false))
                        try await store.members.add(viaGroup ? .group(group.id) : .project(project.id), userID: user.id, level: level, expiresAt: Self.day(expiry))
                        let actor = Actor.user(UserActor(user: user, scopes: nil))
                        let active = expiry == .never || expiry == .tomorrow
                        let facts = try await authorizer.facts(for: project, actor: actor)
                        for ability in ProjectAbility.allCases {
                            cases += 1
                            // A missing entry is a mismatch to report, not a trap that takes every running test down.
                            guard let least = Self.least[ability] else {
                                mismatches.append("\(ability) has no least level in the table")
                                continue
                            }
                            let want: String = !active ? "notFound" : level.rawValue >= least ? "allowed" : "forbidden"
                            let decision = await authorizer.decide(actor, ability, facts)
                            let got: String =
                                switch decision {
                                case .allowed: "allowed"
                                case .denied(.notFound): "notFound"
                                case .denied: "forbidden"
                                }
                            if got != want { mismatches.append("\(ability) by a \(level.title) \(viaGroup ? "of the group" : "of the project") expiring \(expiry): got \(got), want \(want)") }
                        }
                        let groupFacts = try await authorizer.facts(for: group, actor: actor)
                        let seesGroup = AccessPolicy.decide(actor, .readGroup, on: groupFacts).isAllowed
                        // A project membership makes the group visible through its project; an expired one does not.
                        if seesGroup != active { mismatches.append("read_group by a \(level.title) expiring \(expiry): got \(seesGroup)") }
                    }
                }
            }
            #expect(cases == 2 * 5 * 4 * ProjectAbility.allCases.count)
            #expect(mismatches.isEmpty, "\(mismatches.prefix(20).joined(separator: "\n"))")
        }
    }
}
