import Foundation
import LatchkeyCore
import LatchkeyStore
import LatchkeyTestSupport
import Testing

@Suite("Project repository")
struct ProjectRepositoryTests {
    private func ids(_ store: Store, _ filter: ProjectFilter) async throws -> Set<Int64> {
        Set(try await store.projects.list(filter, page: PageRequest(perPage: 100)).items.map(\.id))
    }

    private func viewer(_ store: Store, _ user: User) async throws -> ProjectFilter.Viewer {
        .user(id: user.id, groupPaths: try await store.members.groupPaths(userID: user.id))
    }

    @Test("anonymous callers list public projects, users also internal ones and their own, administrators all", arguments: TestBackend.all)
    func visibility(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let alice = try await store.makeUser("alice")
            let bob = try await store.makeUser("bob")
            let carol = try await store.makeUser("carol")
            let group = try await store.makeGroup("team", visibility: .public, creator: alice)
            let sub = try await store.makeGroup("sub", parent: group, creator: alice)
            let open = try await store.makeProject("open", namespaceID: group.id, visibility: .public, creator: alice)
            let inner = try await store.makeProject("inner", namespaceID: group.id, visibility: .internal, creator: alice)
            let closed = try await store.makeProject("closed", namespaceID: group.id, creator: alice)
            let deep = try await store.makeProject("deep", namespaceID: sub.id, creator: alice)
            let bobs = try await store.makePersonalProject("bobs", of: bob)
            let direct = try await store.makePersonalProject("shared", of: alice)
            try await store.members.add(.project(direct.id), userID: carol.id, level: .guest, expiresAt: nil)
            try await store.members.add(.group(sub.id), userID: carol.id, level: .reporter, expiresAt: nil)

            #expect(try await ids(store, ProjectFilter(viewer: .anonymous)) == [open.id])
            #expect(try await ids(store, ProjectFilter(viewer: .admin)) == [open.id, inner.id, closed.id, deep.id, bobs.id, direct.id])
            #expect(try await ids(store, ProjectFilter(viewer: try await viewer(store, bob))) == [open.id, inner.id, bobs.id])
            #expect(try await ids(store, ProjectFilter(viewer: try await viewer(store, carol))) == [open.id, inner.id, deep.id, direct.id])
            #expect(
                try await ids(store, ProjectFilter(viewer: try await viewer(store, alice))) == [open.id, inner.id, closed.id, deep.id, direct.id])

            var membership = ProjectFilter(viewer: try await viewer(store, carol))
            membership.membershipOnly = true
            #expect(try await ids(store, membership) == [deep.id, direct.id])
            var owned = ProjectFilter(viewer: try await viewer(store, bob))
            owned.ownedBy = bob.id
            #expect(try await ids(store, owned) == [bobs.id])
            var ownedWithGroups = ProjectFilter(viewer: try await viewer(store, carol))
            ownedWithGroups.ownedBy = carol.id
            ownedWithGroups.ownedIncludesOwnerMemberships = true
            #expect(try await ids(store, ownedWithGroups) == [])
            try await store.members.update(.group(sub.id), userID: carol.id, level: .owner, expiresAt: nil)
            try await store.members.update(.project(direct.id), userID: carol.id, level: .owner, expiresAt: nil)
            #expect(try await ids(store, ownedWithGroups) == [deep.id, direct.id])
            var ownedByAlice = ProjectFilter(viewer: .admin)
            ownedByAlice.ownedBy = alice.id
            ownedByAlice.ownedIncludesOwnerMemberships = true
            #expect(try await ids(store, ownedByAlice) == [open.id, inner.id, closed.id, deep.id, direct.id])
            var under = ProjectFilter(viewer: .admin)
            under.underNamespacePath = "team/sub"
            #expect(try await ids(store, under) == [deep.id])
            var internalOnly = ProjectFilter(viewer: .admin)
            internalOnly.visibility = .internal
            #expect(try await ids(store, internalOnly) == [inner.id])
        }
    }

    @Test("membership of a group named a_b grants nothing under axb/ (no LIKE wildcards), nor under a_bc/", arguments: TestBackend.all)
    func likeWildcardSafety(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let alice = try await store.makeUser("alice")
            let bob = try await store.makeUser("bob")
            let underscored = try await store.makeGroup("a_b", creator: alice)
            let lookalike = try await store.makeGroup("axb", creator: alice)
            let longer = try await store.makeGroup("a_bc", creator: alice)
            let percent = try await store.makeGroup("a", creator: alice)
            let mine = try await store.makeProject("p", namespaceID: underscored.id, creator: alice)
            let theirs = try await store.makeProject("p", namespaceID: lookalike.id, creator: alice)
            let other = try await store.makeProject("p", namespaceID: longer.id, creator: alice)
            let short = try await store.makeProject("p", namespaceID: percent.id, creator: alice)
            try await store.members.add(.group(underscored.id), userID: bob.id, level: .developer, expiresAt: nil)

            #expect(try await ids(store, ProjectFilter(viewer: try await viewer(store, bob))) == [mine.id])
            var under = ProjectFilter(viewer: .admin)
            under.underNamespacePath = "a_b"
            #expect(try await ids(store, under) == [mine.id])
            #expect(try await store.projects.projects(underNamespacePath: "a_b").map(\.id) == [mine.id])
            #expect(try await store.members.effectiveLevel(userID: bob.id, project: theirs) == nil)
            #expect(try await store.members.effectiveLevel(userID: bob.id, project: other) == nil)
            #expect(try await store.members.effectiveLevel(userID: bob.id, project: short) == nil)
            #expect(try await store.members.effectiveLevel(userID: bob.id, project: mine) == .developer)
        }
    }

    @Test("listing orders, searches and pages", arguments: TestBackend.all)
    func orderSearchPage(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let alice = try await store.makeUser("alice")
            var created: [Project] = []
            for name in ["charlie", "alpha", "bravo"] { created.append(try await store.makePersonalProject(name, of: alice)) }
            var filter = ProjectFilter(viewer: .admin)
            filter.orderBy = "name"
            filter.ascending = true
            #expect(try await store.projects.list(filter, page: PageRequest()).items.map(\.path) == ["alpha", "bravo", "charlie"])
            filter.orderBy = "id"
            filter.ascending = false
            let page = try await store.projects.list(filter, page: PageRequest(page: 2, perPage: 2))
            #expect(page.items.map(\.id) == [created[0].id])
            #expect(page.total == 3)
            filter.orderBy = "'; DROP TABLE projects; --"
            #expect(try await store.projects.list(filter, page: PageRequest()).items.count == 3)
            filter.search = "RAV"
            #expect(try await store.projects.list(filter, page: PageRequest()).items.map(\.path) == ["bravo"])
        }
    }

    @Test("projects are found by id and full path, updated and deleted", arguments: TestBackend.all)
    func findUpdateDelete(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let alice = try await store.makeUser("alice")
            let project = try await store.makePersonalProject("app", of: alice)
            #expect(project.fullPath == "alice/app")
            #expect(project.jobTokenInboundEnabled)
            #expect(!project.jobTokenOutboundEnabled)
            #expect(try await store.projects.find(fullPath: "ALICE/App")?.id == project.id)
            let updated = try await store.projects.update(id: project.id, ProjectChanges(description: "d", visibility: .public))
            #expect(updated.description == "d")
            #expect(updated.visibility == .public)
            #expect(updated.name == "app")
            #expect(try await store.projects.update(id: project.id, ProjectChanges()).description == "d")
            await #expect(throws: StoreError.notFound) { try await store.projects.update(id: 987_654, ProjectChanges(name: "x")) }
            try await store.projects.delete(id: project.id)
            #expect(try await store.projects.find(id: project.id) == nil)
        }
    }
}
