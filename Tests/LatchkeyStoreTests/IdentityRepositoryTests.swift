import Foundation
import LatchkeyCore
import LatchkeyStore
import LatchkeyTestSupport
import SQLKit
import Testing

@Suite("Migrator, users, namespaces and members")
struct IdentityRepositoryTests {
    @Test("the migrator is idempotent: a second run applies nothing", arguments: TestBackend.all)
    func migratorIdempotent(backend: TestBackend) async throws {
        try await withTestDatabase(backend) { database, _ in
            // withTestDatabase already migrated once.
            let again = try await Migrator().migrate(database)
            #expect(again.isEmpty)
            let store = Store(database: database)
            _ = try await store.makeUser("alice")
            #expect(try await Migrator().migrate(database).isEmpty)
            #expect(try await store.users.count() == 1)
        }
    }

    @Test("the migrator applies a new migration once, recording its version", arguments: TestBackend.all)
    func migratorAppliesNew(backend: TestBackend) async throws {
        try await withTestDatabase(backend) { database, _ in
            let extra = Migration(
                version: 9_999, name: "test table",
                apply: { db, _ in try await db.create(table: "migrator_probe").column("id", type: .bigint).run() })
            let migrator = Migrator(migrations: Schema.migrations + [extra])
            let first = try await migrator.migrate(database)
            let second = try await migrator.migrate(database)
            #expect(first == [9_999])
            #expect(second == [])
        }
    }

    @Test("usernames and emails are unique regardless of case, and lookups ignore case", arguments: TestBackend.all)
    func uniqueUsers(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let alice = try await store.users.create(
                NewUser(username: "Alice", name: "Alice", email: "Alice@Example.com", passwordHash: "h", isAdmin: false))
            await #expect(throws: StoreError.duplicate("username")) {
                try await store.users.create(NewUser(username: "alice", name: "Other", email: "other@example.com", passwordHash: nil, isAdmin: false))
            }
            await #expect(throws: StoreError.duplicate("email")) {
                try await store.users.create(
                    NewUser(username: "alice2", name: "Other", email: "alice@EXAMPLE.com", passwordHash: nil, isAdmin: false))
            }
            #expect(try await store.users.find(username: "ALICE")?.id == alice.id)
            #expect(try await store.users.credentials(username: "aLiCe")?.1 == "h")
            #expect(try await store.users.count() == 1)
            let personal = try #require(try await store.namespaces.personalNamespace(userID: alice.id))
            #expect(personal.kind == .user)
            #expect(personal.fullPath == "Alice")
            #expect(personal.ownerID == alice.id)

            // A group's path blocks the same username, and a username blocks the same group path.
            let group = try await store.makeGroup("team", creator: alice)
            await #expect(throws: StoreError.duplicate("username")) { try await store.makeUser("TEAM") }
            await #expect(throws: StoreError.duplicate("path")) { try await store.makeGroup("alice", creator: alice) }
            _ = group
        }
    }

    @Test("users are listed by id, searched, and blocked", arguments: TestBackend.all)
    func listUsers(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let alice = try await store.makeUser("alice")
            let bob = try await store.makeUser("bob")
            _ = try await store.makeUser("carol")
            #expect(try await store.users.list(page: PageRequest()).items.map(\.username) == ["alice", "bob", "carol"])
            #expect(try await store.users.list(search: "BO", page: PageRequest()).items.map(\.id) == [bob.id])
            #expect(try await store.users.list(username: "ALICE", page: PageRequest()).items.map(\.id) == [alice.id])
            let page = try await store.users.list(page: PageRequest(page: 2, perPage: 2))
            #expect(page.items.map(\.username) == ["carol"])
            #expect(page.total == 3)
            try await store.users.setBlocked(userID: bob.id, blocked: true)
            #expect(try await store.users.find(id: bob.id)?.isBlocked == true)
        }
    }

    @Test("groups nest with full paths and names; a taken full path is refused whatever its case", arguments: TestBackend.all)
    func groupPaths(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let alice = try await store.makeUser("alice")
            let top = try await store.makeGroup("top", creator: alice)
            let mid = try await store.makeGroup("mid", parent: top, creator: alice)
            let leaf = try await store.makeGroup("leaf", parent: mid, creator: alice)
            #expect(leaf.fullPath == "top/mid/leaf")
            #expect(leaf.fullName == "Top / Mid / Leaf")
            #expect(leaf.parentID == mid.id)
            #expect(try await store.namespaces.group(fullPath: "TOP/Mid/leaf")?.id == leaf.id)
            #expect(try await store.namespaces.groupChain(fullPath: "top/mid/leaf").map(\.id) == [leaf.id, mid.id, top.id])
            #expect(try await store.namespaces.listGroups(parentID: .some(nil)).map(\.id) == [top.id])
            #expect(try await store.namespaces.listGroups(parentID: .some(top.id)).map(\.id) == [mid.id])
            await #expect(throws: StoreError.duplicate("path")) { try await store.makeGroup("MID", parent: top, creator: alice) }
            await #expect(throws: StoreError.notFound) {
                try await store.namespaces.createGroup(
                    NewGroup(name: "x", path: "x", parentID: 987_654, visibility: .private, description: ""), creatorID: alice.id)
            }
            // A project's full path is a namespace's too.
            _ = try await store.makeProject("app", namespaceID: top.id, creator: alice)
            await #expect(throws: StoreError.duplicate("path")) { try await store.makeGroup("App", parent: top, creator: alice) }
            await #expect(throws: StoreError.duplicate("path")) { try await store.makeProject("Mid", namespaceID: top.id, creator: alice) }
            #expect(try await store.members.member(.group(leaf.id), userID: alice.id)?.membership.accessLevel == .owner)

            try await store.namespaces.deleteGroup(id: top.id)
            #expect(try await store.namespaces.group(id: leaf.id) == nil)
            #expect(try await store.projects.find(fullPath: "top/app") == nil)
        }
    }

    @Test(
        "the effective level on a project is the highest of direct, group, ancestor group and personal-namespace ownership",
        arguments: TestBackend.all)
    func effectiveLevels(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let alice = try await store.makeUser("alice")
            let bob = try await store.makeUser("bob")
            let top = try await store.makeGroup("top", creator: alice)
            let sub = try await store.makeGroup("sub", parent: top, creator: alice)
            let sibling = try await store.makeGroup("top-sibling", creator: alice)
            let project = try await store.makeProject("app", namespaceID: sub.id, creator: alice)
            let personal = try await store.makePersonalProject("mine", of: bob)

            #expect(try await store.members.effectiveLevel(userID: bob.id, project: project) == nil)
            #expect(try await store.members.effectiveLevel(userID: bob.id, project: personal) == .owner)
            #expect(try await store.members.effectiveLevel(userID: alice.id, project: personal) == nil)
            #expect(try await store.members.effectiveLevel(userID: alice.id, project: project) == .owner)

            try await store.members.add(.group(sibling.id), userID: bob.id, level: .owner, expiresAt: nil)
            #expect(try await store.members.effectiveLevel(userID: bob.id, project: project) == nil)

            try await store.members.add(.project(project.id), userID: bob.id, level: .reporter, expiresAt: nil)
            #expect(try await store.members.effectiveLevel(userID: bob.id, project: project) == .reporter)
            try await store.members.add(.group(top.id), userID: bob.id, level: .developer, expiresAt: nil)
            #expect(try await store.members.effectiveLevel(userID: bob.id, project: project) == .developer)
            #expect(try await store.members.effectiveLevel(userID: bob.id, groupFullPath: "top/sub") == .developer)
            try await store.members.add(.group(sub.id), userID: bob.id, level: .guest, expiresAt: nil)
            #expect(try await store.members.effectiveLevel(userID: bob.id, project: project) == .developer)
            try await store.members.update(.project(project.id), userID: bob.id, level: .maintainer, expiresAt: nil)
            #expect(try await store.members.effectiveLevel(userID: bob.id, project: project) == .maintainer)
            try await store.members.remove(.project(project.id), userID: bob.id)
            try await store.members.remove(.group(top.id), userID: bob.id)
            #expect(try await store.members.effectiveLevel(userID: bob.id, project: project) == .guest)
            #expect(try await store.members.effectiveLevel(userID: bob.id, groupFullPath: "top") == nil)
            #expect(Set(try await store.members.groupPaths(userID: bob.id)) == ["top/sub", "top-sibling"])
        }
    }

    @Test("a direct membership is unique; changing or removing a non-member is notFound", arguments: TestBackend.all)
    func membershipRows(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let alice = try await store.makeUser("alice")
            let bob = try await store.makeUser("bob")
            let project = try await store.makePersonalProject("app", of: alice)
            try await store.members.add(.project(project.id), userID: bob.id, level: .developer, expiresAt: "2099-01-01")
            await #expect(throws: StoreError.duplicate("member")) {
                try await store.members.add(.project(project.id), userID: bob.id, level: .guest, expiresAt: nil)
            }
            let member = try #require(try await store.members.member(.project(project.id), userID: bob.id))
            #expect(member.user.username == "bob")
            #expect(member.membership.accessLevel == .developer)
            #expect(member.membership.expiresAt == "2099-01-01")
            try await store.members.update(.project(project.id), userID: bob.id, level: .reporter, expiresAt: .some(nil))
            #expect(try await store.members.member(.project(project.id), userID: bob.id)?.membership.expiresAt == nil)
            await #expect(throws: StoreError.notFound) {
                try await store.members.update(.project(project.id), userID: alice.id, level: .guest, expiresAt: nil)
            }
            await #expect(throws: StoreError.notFound) { try await store.members.remove(.project(project.id), userID: alice.id) }
            try await store.projects.delete(id: project.id)
            #expect(try await store.members.members(.project(project.id)).isEmpty)
        }
    }
}
