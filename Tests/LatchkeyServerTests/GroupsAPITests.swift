import Foundation
import HummingbirdTesting
import LatchkeyTestSupport
import Testing

@Suite("Groups API")
struct GroupsAPITests {
    @Test("groups nest into subgroups with full_path and full_name; the creator becomes Owner", arguments: TestBackend.all)
    func nesting(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (alice, token) = try await server.makeUser("alice")
            let top = try await client.createGroup("top", token: token)
            #expect(top.string("full_path") == "top")
            #expect(top.object["parent_id"] is NSNull)
            #expect(top.string("web_url") == "http://latchkey.test/groups/top")
            let mid = try await client.createGroup("mid", parent: top.id, token: token)
            let leaf = try await client.createGroup("leaf", parent: mid.id, token: token)
            #expect(mid.string("full_path") == "top/mid")
            #expect(leaf.string("full_path") == "top/mid/leaf")
            #expect(leaf.string("full_name") == "Top / Mid / Leaf")
            #expect((leaf.object["parent_id"] as? NSNumber)?.int64Value == mid.id)

            let byPath = try await client.api(.get, "groups/top%2Fmid%2Fleaf", token: token)
            #expect(byPath.id == leaf.id)
            let members = try await client.api(.get, "groups/\(top.id)/members", token: token)
            #expect(members.array.map { ($0["id"] as? NSNumber)?.int64Value } == [alice.id])
            #expect(members.array.first?["access_level"] as? Int == Level.owner)
            let subgroups = try await client.api(.get, "groups/\(top.id)/subgroups", token: token)
            #expect(subgroups.ids == [mid.id])
        }
    }

    @Test("creating a group refuses missing fields, bad paths, taken paths and unknown parents", arguments: TestBackend.all)
    func createRefusals(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, token) = try await server.makeUser("alice")
            let missing = try await client.api(.post, "groups", token: token, json: ["name": "No Path"])
            #expect(missing.status == .badRequest)
            #expect(missing.string("error") == "path is missing")
            let bad = try await client.api(.post, "groups", token: token, json: ["name": "Bad", "path": "bad/path"])
            #expect(bad.status == .badRequest)
            _ = try await client.createGroup("team", token: token)
            let taken = try await client.api(.post, "groups", token: token, json: ["name": "Team", "path": "TEAM"])
            #expect(taken.status == .badRequest)
            #expect(taken.string("message")?.contains("has already been taken") == true)
            // A user's personal namespace holds the path too.
            let userPath = try await client.api(.post, "groups", token: token, json: ["name": "Alice", "path": "alice"])
            #expect(userPath.status == .badRequest)
            let orphan = try await client.api(.post, "groups", token: token, json: ["name": "Orphan", "path": "orphan", "parent_id": 987_654])
            #expect(orphan.status == .notFound)
            #expect(try await client.api(.post, "groups", json: ["name": "Anon", "path": "anon"]).status == .unauthorized)
        }
    }

    @Test("a subgroup may not be more visible than its parent", arguments: TestBackend.all)
    func parentVisibility(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, token) = try await server.makeUser("alice")
            let parent = try await client.createGroup("inner", visibility: "internal", token: token)
            let tooOpen = try await client.api(
                .post, "groups", token: token, json: ["name": "Sub", "path": "sub", "parent_id": parent.id, "visibility": "public"])
            #expect(tooOpen.status == .badRequest)
            #expect(tooOpen.problems["visibility_level"] == ["public is not allowed since the parent group has a internal visibility."])
            let same = try await client.createGroup("sub", parent: parent.id, visibility: "internal", token: token)
            #expect(same.string("visibility") == "internal")
            let closed = try await client.createGroup("closed", parent: parent.id, visibility: "private", token: token)
            #expect(closed.string("visibility") == "private")
        }
    }

    @Test("creating a subgroup needs Maintainer on the parent; outsiders of a private parent get 404", arguments: TestBackend.all)
    func subgroupNeedsMaintainer(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let (bob, bobToken) = try await server.makeUser("bob")
            let parent = try await client.createGroup("team", token: alice)
            let body: [String: any Sendable] = ["name": "Sub", "path": "sub", "parent_id": parent.id]
            #expect(try await client.api(.post, "groups", token: bobToken, json: body).status == .notFound)
            try await client.addMember("groups", parent.id, userID: bob.id, level: Level.developer, token: alice)
            let developer = try await client.api(.post, "groups", token: bobToken, json: body)
            #expect(developer.status == .forbidden)
            try #require(
                try await client.api(.put, "groups/\(parent.id)/members/\(bob.id)", token: alice, json: ["access_level": Level.maintainer]).status
                    == .ok)
            let maintainer = try await client.api(.post, "groups", token: bobToken, json: body)
            #expect(maintainer.status == .created)
            #expect(maintainer.string("full_path") == "team/sub")
        }
    }

    @Test("listing and reading show public groups to all, internal ones to users, private ones to members only", arguments: TestBackend.all)
    func listingVisibility(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let (bob, bobToken) = try await server.makeUser("bob")
            let open = try await client.createGroup("open", visibility: "public", token: alice)
            let inner = try await client.createGroup("inner", visibility: "internal", token: alice)
            let closed = try await client.createGroup("closed", token: alice)
            let closedSub = try await client.createGroup("sub", parent: closed.id, token: alice)

            #expect(Set(try await client.api(.get, "groups").ids) == [open.id])
            #expect(Set(try await client.api(.get, "groups", token: bobToken).ids) == [open.id, inner.id])
            #expect(Set(try await client.api(.get, "groups", token: alice).ids) == [open.id, inner.id, closed.id, closedSub.id])
            #expect(Set(try await client.api(.get, "groups", token: server.rootToken).ids) == [open.id, inner.id, closed.id, closedSub.id])
            #expect(Set(try await client.api(.get, "groups?top_level_only=true", token: alice).ids) == [open.id, inner.id, closed.id])
            #expect(Set(try await client.api(.get, "groups?search=clo", token: alice).ids) == [closed.id, closedSub.id])

            #expect(try await client.api(.get, "groups/\(open.id)").status == .ok)
            #expect(try await client.api(.get, "groups/\(inner.id)").status == .notFound)
            #expect(try await client.api(.get, "groups/\(inner.id)", token: bobToken).status == .ok)
            let hidden = try await client.api(.get, "groups/\(closed.id)", token: bobToken)
            #expect(hidden.status == .notFound)
            #expect(hidden.string("message") == "404 Group Not Found")
            #expect(try await client.api(.get, "groups/closed%2Fsub", token: bobToken).status == .notFound)

            // Membership of the parent is inherited by the subgroup.
            try await client.addMember("groups", closed.id, userID: bob.id, level: Level.guest, token: alice)
            #expect(try await client.api(.get, "groups/\(closedSub.id)", token: bobToken).status == .ok)
            #expect(Set(try await client.api(.get, "groups", token: bobToken).ids) == [open.id, inner.id, closed.id, closedSub.id])
        }
    }

    @Test("group membership is inherited by subgroups and their projects, the highest level winning", arguments: TestBackend.all)
    func inheritance(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let (bob, bobToken) = try await server.makeUser("bob")
            let top = try await client.createGroup("top", token: alice)
            let sub = try await client.createGroup("sub", parent: top.id, token: alice)
            let project = try await client.createProject(["name": "app", "namespace_id": sub.id], token: alice)
            #expect(try await client.api(.get, "projects/\(project.id)", token: bobToken).status == .notFound)

            try await client.addMember("groups", top.id, userID: bob.id, level: Level.developer, token: alice)
            let seen = try await client.api(.get, "projects/\(project.id)", token: bobToken)
            #expect(seen.status == .ok)
            let access = (seen.object["permissions"] as? [String: Any])?["project_access"] as? [String: Any]
            #expect(access?["access_level"] as? Int == Level.developer)
            #expect(try await client.api(.put, "projects/\(project.id)", token: bobToken, json: ["description": "x"]).status == .forbidden)
            #expect(
                try await client.api(.post, "groups", token: bobToken, json: ["name": "Deeper", "path": "deeper", "parent_id": sub.id]).status
                    == .forbidden)

            // Maintainer on the subgroup beats Developer on the parent.
            try await client.addMember("groups", sub.id, userID: bob.id, level: Level.maintainer, token: alice)
            #expect(try await client.api(.put, "projects/\(project.id)", token: bobToken, json: ["description": "x"]).status == .ok)
            #expect(
                try await client.api(.post, "groups", token: bobToken, json: ["name": "Deeper", "path": "deeper", "parent_id": sub.id]).status
                    == .created)
            // A lower direct project membership does not lower it.
            try await client.addMember("projects", project.id, userID: bob.id, level: Level.guest, token: alice)
            #expect(try await client.api(.put, "projects/\(project.id)", token: bobToken, json: ["description": "y"]).status == .ok)
            let groupProjects = try await client.api(.get, "groups/\(top.id)/projects", token: bobToken)
            #expect(groupProjects.ids == [project.id])
        }
    }
}
