import Foundation
import HummingbirdTesting
import LatchkeyTestSupport
import Testing

@Suite("Members API")
struct MembersAPITests {
    /// Where members live: a project or a group, made by `owner`.
    enum Kind: String, CaseIterable, Sendable {
        case projects, groups
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var backend: TestBackend
        var kind: Kind
        var testDescription: String { "\(kind.rawValue) on \(backend.rawValue)" }
    }

    static var cases: [Case] { TestBackend.all.flatMap { backend in Kind.allCases.map { Case(backend: backend, kind: $0) } } }

    private func makeTarget(_ kind: Kind, client: some TestClientProtocol, token: String) async throws -> Int64 {
        switch kind {
        case .projects: try await client.createProject(["name": "app"], token: token).id
        case .groups: try await client.createGroup("team", token: token).id
        }
    }

    @Test("members are added, listed, changed and removed", arguments: cases)
    func lifecycle(_ testCase: Case) async throws {
        try await withTestServer(testCase.backend) { server, client in
            let kind = testCase.kind.rawValue
            let (_, alice) = try await server.makeUser("alice")
            let (bob, bobToken) = try await server.makeUser("bob")
            let (carol, _) = try await server.makeUser("carol")
            let id = try await makeTarget(testCase.kind, client: client, token: alice)

            let added = try await client.api(
                .post, "\(kind)/\(id)/members", token: alice, json: ["user_id": bob.id, "access_level": Level.developer, "expires_at": "2099-12-31"])
            #expect(added.status == .created)
            #expect(added.id == bob.id)
            #expect(added.string("username") == "bob")
            #expect(added.object["access_level"] as? Int == Level.developer)
            #expect(added.string("expires_at") == "2099-12-31")
            let byName = try await client.api(.post, "\(kind)/\(id)/members", token: alice, form: "username=carol&access_level=20")
            #expect(byName.status == .created)
            #expect(byName.id == carol.id)

            let list = try await client.api(.get, "\(kind)/\(id)/members", token: bobToken)
            #expect(list.status == .ok)
            #expect(list.ids.contains(bob.id) && list.ids.contains(carol.id))
            #expect(list.header("X-Total") != nil)
            let filtered = try await client.api(.get, "\(kind)/\(id)/members?query=car", token: bobToken)
            #expect(filtered.ids == [carol.id])
            let one = try await client.api(.get, "\(kind)/\(id)/members/\(carol.id)", token: bobToken)
            #expect(one.object["access_level"] as? Int == Level.reporter)

            let changed = try await client.api(.put, "\(kind)/\(id)/members/\(carol.id)", token: alice, json: ["access_level": Level.maintainer])
            #expect(changed.status == .ok)
            #expect(changed.object["access_level"] as? Int == Level.maintainer)
            #expect(
                try await client.api(.put, "\(kind)/\(id)/members/\(carol.id)", token: bobToken, json: ["access_level": Level.guest]).status
                    == .forbidden)

            let removed = try await client.api(.delete, "\(kind)/\(id)/members/\(carol.id)", token: alice)
            #expect(removed.status == .noContent)
            #expect(try await client.api(.get, "\(kind)/\(id)/members/\(carol.id)", token: alice).status == .notFound)
            #expect(try await client.api(.delete, "\(kind)/\(id)/members/\(carol.id)", token: alice).status == .notFound)
            #expect(
                try await client.api(.put, "\(kind)/\(id)/members/\(carol.id)", token: alice, json: ["access_level": Level.guest]).status == .notFound
            )
            // A member may leave by themselves.
            #expect(try await client.api(.delete, "\(kind)/\(id)/members/\(bob.id)", token: bobToken).status == .noContent)
        }
    }

    @Test("adding refuses duplicates (409), unknown users (404) and invalid access levels (400)", arguments: cases)
    func addRefusals(_ testCase: Case) async throws {
        try await withTestServer(testCase.backend) { server, client in
            let kind = testCase.kind.rawValue
            let (_, alice) = try await server.makeUser("alice")
            let (bob, _) = try await server.makeUser("bob")
            let id = try await makeTarget(testCase.kind, client: client, token: alice)
            try await client.addMember(kind, id, userID: bob.id, level: Level.reporter, token: alice)

            let duplicate = try await client.api(
                .post, "\(kind)/\(id)/members", token: alice, json: ["user_id": bob.id, "access_level": Level.developer])
            #expect(duplicate.status == .conflict)
            #expect(duplicate.string("message") == "Member already exists")
            let unknown = try await client.api(
                .post, "\(kind)/\(id)/members", token: alice, json: ["user_id": 999_999, "access_level": Level.developer])
            #expect(unknown.status == .notFound)
            #expect(unknown.string("message") == "404 User Not Found")
            let unknownName = try await client.api(
                .post, "\(kind)/\(id)/members", token: alice, json: ["username": "nobody", "access_level": Level.developer])
            #expect(unknownName.status == .notFound)
            let badLevels: [any Sendable] = [35, 0, 5, 60, "abc", true]
            for level in badLevels {
                let bad = try await client.api(.post, "\(kind)/\(id)/members", token: alice, json: ["user_id": bob.id, "access_level": level])
                #expect(bad.status == .badRequest, "access_level \(level)")
                #expect(bad.string("error") == "access_level does not have a valid value")
            }
            let noLevel = try await client.api(.post, "\(kind)/\(id)/members", token: alice, json: ["user_id": bob.id])
            #expect(noLevel.status == .badRequest)
            #expect(noLevel.string("error") == "access_level is missing")
            let noUser = try await client.api(.post, "\(kind)/\(id)/members", token: alice, json: ["access_level": Level.guest])
            #expect(noUser.status == .badRequest)
            let badDay = try await client.api(
                .post, "\(kind)/\(id)/members", token: alice, json: ["username": "root", "access_level": Level.guest, "expires_at": "tomorrow"])
            #expect(badDay.status == .badRequest)
            let badLevelUpdate = try await client.api(.put, "\(kind)/\(id)/members/\(bob.id)", token: alice, json: ["access_level": 42])
            #expect(badLevelUpdate.status == .badRequest)
        }
    }

    @Test("a Maintainer manages members but may not add, promote or remove an Owner", arguments: cases)
    func maintainerAndOwners(_ testCase: Case) async throws {
        try await withTestServer(testCase.backend) { server, client in
            let kind = testCase.kind.rawValue
            let (alice, alice_) = try await server.makeUser("alice")
            let (maya, mayaToken) = try await server.makeUser("maya")
            let (bob, _) = try await server.makeUser("bob")
            let (carol, _) = try await server.makeUser("carol")
            let id = try await makeTarget(testCase.kind, client: client, token: alice_)
            try await client.addMember(kind, id, userID: maya.id, level: Level.maintainer, token: alice_)

            let owner = try await client.api(
                .post, "\(kind)/\(id)/members", token: mayaToken, json: ["user_id": bob.id, "access_level": Level.owner])
            #expect(owner.status == .forbidden)
            try await client.addMember(kind, id, userID: bob.id, level: Level.developer, token: mayaToken)
            #expect(
                try await client.api(.put, "\(kind)/\(id)/members/\(bob.id)", token: mayaToken, json: ["access_level": Level.owner]).status
                    == .forbidden)
            #expect(
                try await client.api(.put, "\(kind)/\(id)/members/\(bob.id)", token: mayaToken, json: ["access_level": Level.maintainer]).status
                    == .ok)

            try await client.addMember(kind, id, userID: carol.id, level: Level.owner, token: alice_)
            #expect(
                try await client.api(.put, "\(kind)/\(id)/members/\(carol.id)", token: mayaToken, json: ["access_level": Level.guest]).status
                    == .forbidden)
            #expect(try await client.api(.delete, "\(kind)/\(id)/members/\(carol.id)", token: mayaToken).status == .forbidden)
            #expect(try await client.api(.delete, "\(kind)/\(id)/members/\(carol.id)", token: alice_).status == .noContent)
            _ = alice
        }
    }

    @Test("the last Owner of a top-level group can be neither removed nor demoted", arguments: TestBackend.all)
    func lastGroupOwner(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (alice, aliceToken) = try await server.makeUser("alice")
            let (bob, bobToken) = try await server.makeUser("bob")
            let group = try await client.createGroup("team", token: aliceToken)
            let removeSelf = try await client.api(.delete, "groups/\(group.id)/members/\(alice.id)", token: aliceToken)
            #expect(removeSelf.status == .forbidden)
            let demote = try await client.api(
                .put, "groups/\(group.id)/members/\(alice.id)", token: aliceToken, json: ["access_level": Level.maintainer])
            #expect(demote.status == .forbidden)
            let byAdmin = try await client.api(.delete, "groups/\(group.id)/members/\(alice.id)", token: server.rootToken)
            #expect(byAdmin.status == .forbidden)

            try await client.addMember("groups", group.id, userID: bob.id, level: Level.owner, token: aliceToken)
            #expect(try await client.api(.delete, "groups/\(group.id)/members/\(alice.id)", token: bobToken).status == .noContent)
            #expect(try await client.api(.delete, "groups/\(group.id)/members/\(bob.id)", token: bobToken).status == .forbidden)

            // A subgroup's Owners are backed by the parent's, so its last direct Owner may go.
            let sub = try await client.createGroup("sub", parent: group.id, token: bobToken)
            #expect(try await client.api(.delete, "groups/\(sub.id)/members/\(bob.id)", token: bobToken).status == .noContent)
        }
    }

    @Test("members/all lists direct and inherited members once each, at their highest level", arguments: TestBackend.all)
    func allMembers(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (alice, aliceToken) = try await server.makeUser("alice")
            let (bob, _) = try await server.makeUser("bob")
            let (carol, carolToken) = try await server.makeUser("carol")
            let (dave, _) = try await server.makeUser("dave")
            let top = try await client.createGroup("top", token: aliceToken)
            let sub = try await client.createGroup("sub", parent: top.id, token: aliceToken)
            let project = try await client.createProject(["name": "app", "namespace_id": sub.id], token: aliceToken)
            try await client.addMember("groups", top.id, userID: bob.id, level: Level.reporter, token: aliceToken)
            try await client.addMember("groups", sub.id, userID: bob.id, level: Level.maintainer, token: aliceToken)
            try await client.addMember("projects", project.id, userID: bob.id, level: Level.developer, token: aliceToken)
            try await client.addMember("groups", top.id, userID: carol.id, level: Level.guest, token: aliceToken)
            try await client.addMember("projects", project.id, userID: dave.id, level: Level.developer, token: aliceToken)

            let direct = try await client.api(.get, "projects/\(project.id)/members", token: carolToken)
            #expect(Set(direct.ids) == [bob.id, dave.id])
            let all = try await client.api(.get, "projects/\(project.id)/members/all", token: carolToken)
            #expect(all.status == .ok)
            let levels = Dictionary(uniqueKeysWithValues: all.array.map { ($0.id, $0["access_level"] as? Int) })
            #expect(levels == [alice.id: Level.owner, bob.id: Level.maintainer, carol.id: Level.guest, dave.id: Level.developer])
            let subAll = try await client.api(.get, "groups/\(sub.id)/members/all", token: carolToken)
            let subLevels = Dictionary(uniqueKeysWithValues: subAll.array.map { ($0.id, $0["access_level"] as? Int) })
            #expect(subLevels == [alice.id: Level.owner, bob.id: Level.maintainer, carol.id: Level.guest])

            let personal = try await client.createProject(["name": "mine"], token: carolToken)
            let personalAll = try await client.api(.get, "projects/\(personal.id)/members/all", token: carolToken)
            #expect(personalAll.array.map { $0.id } == [carol.id])
            #expect(personalAll.array.first?["access_level"] as? Int == Level.owner)
        }
    }
}
