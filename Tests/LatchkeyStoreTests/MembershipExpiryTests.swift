import Foundation
import LatchkeyCore
import LatchkeyStore
import LatchkeyTestSupport
import Testing

@Suite("Membership expiry")
struct MembershipExpiryTests {
    /// 2030-06-15 12:00 UTC, so the days around it are fixed.
    static let now = Date(timeIntervalSince1970: 1_907_755_200)

    @Test(
        "a membership grants its level until the start of its expiry day (UTC), and nothing from then on",
        arguments: TestBackend.all, [("2030-06-14", false), ("2030-06-15", false), ("2030-06-16", true), ("2031-01-01", true), (nil, true)])
    func projectMembership(backend: TestBackend, expiry: (String?, Bool)) async throws {
        try await withStore(backend) { store in
            let owner = try await store.makeUser("owner")
            let dev = try await store.makeUser("dev")
            let group = try await store.makeGroup("team", creator: owner)
            let project = try await store.makeProject("app", namespaceID: group.id, creator: owner)
            try await store.members.add(.project(project.id), userID: dev.id, level: .developer, expiresAt: expiry.0)
            let level = try await store.members.effectiveLevel(userID: dev.id, project: project, now: Self.now)
            #expect(level == (expiry.1 ? .developer : nil), "expires \(expiry.0 ?? "never")")
        }
    }

    @Test("an expired group membership is inherited by nothing: not the group, its subgroups, its projects or the project lists", arguments: TestBackend.all)
    func groupMembership(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let owner = try await store.makeUser("owner")
            let dev = try await store.makeUser("dev")
            let group = try await store.makeGroup("team", creator: owner)
            let sub = try await store.makeGroup("sub", parent: group, creator: owner)
            let project = try await store.makeProject("app", namespaceID: sub.id, creator: owner)
            try await store.members.add(.group(group.id), userID: dev.id, level: .maintainer, expiresAt: "2000-01-01")
            #expect(try await store.members.effectiveLevel(userID: dev.id, groupFullPath: group.fullPath) == nil)
            #expect(try await store.members.effectiveLevel(userID: dev.id, groupFullPath: sub.fullPath) == nil)
            #expect(try await store.members.effectiveLevel(userID: dev.id, project: project) == nil)
            #expect(try await store.members.groupPaths(userID: dev.id).isEmpty)

            try await store.members.update(.group(group.id), userID: dev.id, level: .maintainer, expiresAt: .some(nil))
            #expect(try await store.members.effectiveLevel(userID: dev.id, project: project) == .maintainer)
            #expect(try await store.members.groupPaths(userID: dev.id) == ["team"])
        }
    }

    @Test("a project with only an expired membership is not listed as the member's", arguments: TestBackend.all)
    func projectLists(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let owner = try await store.makeUser("owner")
            let dev = try await store.makeUser("dev")
            let group = try await store.makeGroup("team", creator: owner)
            let expired = try await store.makeProject("expired", namespaceID: group.id, creator: owner)
            let current = try await store.makeProject("current", namespaceID: group.id, creator: owner)
            try await store.members.add(.project(expired.id), userID: dev.id, level: .developer, expiresAt: "2000-01-01")
            try await store.members.add(.project(current.id), userID: dev.id, level: .developer, expiresAt: nil)
            let filter = ProjectFilter(viewer: .user(id: dev.id, groupPaths: try await store.members.groupPaths(userID: dev.id)))
            let listed = try await store.projects.list(filter, page: PageRequest(page: 1, perPage: 100))
            #expect(listed.items.map(\.id) == [current.id])
        }
    }
}
