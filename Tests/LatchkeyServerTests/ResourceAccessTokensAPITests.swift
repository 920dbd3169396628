import Foundation
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import Testing

/// `/projects/:id/access_tokens` and `/groups/:id/access_tokens`: bot users that reach one project or group with the token's
/// role, made and revoked by Maintainers.
@Suite("Project and group access tokens")
struct ResourceAccessTokensAPITests {
    @Test("a token rotating itself keeps its bot a member until the new token expires, as an owner's rotation does", arguments: TestBackend.all)
    func selfRotationExtendsMembership(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let project = try await client.createProject(["name": "app"], token: alice)
            func day(_ offset: Int) -> String {
                let formatter = DateFormatter()
                formatter.locale = Locale(identifier: "en_US_POSIX")
                formatter.timeZone = TimeZone(identifier: "UTC")
                formatter.dateFormat = "yyyy-MM-dd"
                return formatter.string(from: Date().addingTimeInterval(Double(offset) * 86_400))
            }
            let created = try await client.api(
                .post, "projects/\(project.id)/access_tokens", token: alice, json: ["name": "bot", "scopes": ["api"], "expires_at": day(5)])
            #expect(created.status == .created, "\(created.text)")
            let botID = try #require((created.object["user_id"] as? NSNumber)?.int64Value)
            let member = "projects/\(project.id)/members/\(botID)"
            #expect(try await client.api(.get, member, token: alice).string("expires_at") == day(5))

            let rotated = try await client.api(.post, "personal_access_tokens/self/rotate", token: try #require(created.string("token")), json: ["expires_at": day(40)])
            #expect(rotated.status == .ok, "\(rotated.text)")
            #expect(rotated.string("expires_at") == day(40))
            #expect(try await client.api(.get, member, token: alice).string("expires_at") == day(40))
            // A person's own token rotating itself touches no membership.
            let own = try await client.api(.post, "personal_access_tokens/self/rotate", token: alice)
            #expect(own.status == .ok, "\(own.text)")
        }
    }

    @Test("create, use, list, rotate and revoke; the bot reaches its project only, with its role, and nothing after revocation", arguments: TestBackend.all)
    func lifecycle(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let (mallory, malloryToken) = try await server.makeUser("mallory")
            let project = try await client.createProject(["name": "app"], token: alice)
            let other = try await client.createProject(["name": "other"], token: alice)
            try await client.addMember("projects", project.id, userID: mallory.id, level: Level.maintainer, token: alice)
            let path = "projects/\(project.id)/access_tokens"

            let created = try await client.api(.post, path, token: alice, json: ["name": "deploy bot", "scopes": ["api"], "access_level": Level.developer])
            #expect(created.status == .created, "\(created.text)")
            let secret = try #require(created.string("token"))
            #expect(secret.hasPrefix("glpat-") && created.object["access_level"] as? Int == Level.developer && created.object["active"] as? Bool == true)
            let botID = try #require((created.object["user_id"] as? NSNumber)?.int64Value)

            // The bot: a Developer of its project, invisible to the other one, and unable to grow namespaces or join others.
            let me = try await client.api(.get, "user", token: secret)
            #expect((me.string("username") ?? "").hasPrefix("project_\(project.id)_bot_"), "\(me.text)")
            #expect(try await client.api(.get, "projects/\(project.id)", token: secret).status == .ok)
            #expect(try await client.api(.get, "projects/\(other.id)", token: secret).status == .notFound)
            #expect(try await client.api(.post, "projects/\(project.id)/variables", token: secret, json: ["key": "K", "value": "v"]).status == .forbidden)
            #expect(try await client.api(.post, "groups", token: secret, json: ["name": "Bots", "path": "bots"]).status == .forbidden)
            #expect(try await client.api(.post, "projects", token: secret, json: ["name": "mine"]).status != .created)
            let joined = try await client.api(.post, "projects/\(other.id)/members", token: alice, json: ["user_id": botID, "access_level": Level.owner])
            #expect(joined.status == .badRequest, "\(joined.text)")

            // Only an Owner makes an Owner token; a Maintainer may make up to Maintainer.
            let tooHigh = try await client.api(.post, path, token: malloryToken, json: ["name": "owner bot", "scopes": ["api"], "access_level": Level.owner])
            #expect(tooHigh.status == .badRequest && tooHigh.text.contains("Not eligible"), "\(tooHigh.text)")
            #expect(try await client.api(.post, path, token: malloryToken, json: ["name": "m", "scopes": ["api"]]).status == .created)
            #expect(try await client.api(.post, path, token: alice, json: ["name": "x", "scopes": ["sudo-ish"]]).status == .badRequest)
            #expect(try await client.api(.post, path, token: alice, json: ["scopes": ["api"]]).status == .badRequest)
            #expect(try await client.api(.post, path, token: alice, json: ["name": "x", "scopes": ["api"], "access_level": 35]).status == .badRequest)

            let listed = try await client.api(.get, path, token: alice)
            #expect(listed.array.count == 2 && listed.array.allSatisfy { $0["token"] == nil || $0["token"] is NSNull }, "\(listed.text)")
            #expect(try await client.api(.get, path, token: secret).status == .forbidden)

            let rotated = try await client.api(.post, "\(path)/\(created.id)/rotate", token: alice)
            #expect(rotated.status == .ok, "\(rotated.text)")
            let next = try #require(rotated.string("token"))
            #expect(try await client.api(.get, "user", token: secret).status == .unauthorized)
            #expect(try await client.api(.get, "projects/\(project.id)", token: next).status == .ok)

            #expect(try await client.api(.delete, "\(path)/\(rotated.id)", token: alice).status == .noContent)
            #expect(try await client.api(.get, "projects/\(project.id)", token: next).status == .unauthorized)
            let members = try await client.api(.get, "projects/\(project.id)/members", token: alice)
            #expect(!members.array.contains { ($0["id"] as? NSNumber)?.int64Value == botID })
            #expect(try await client.api(.get, "\(path)/\(rotated.id)", token: alice).object["active"] as? Bool == false)
            #expect(try await client.api(.get, "\(path)/999999", token: alice).status == .notFound)
        }
    }

    @Test("deleting the project ends its tokens")
    func projectDeletion() async throws {
        try await withTestServer(.sqlite) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let project = try await client.createProject(["name": "app"], token: alice)
            let created = try await client.api(.post, "projects/\(project.id)/access_tokens", token: alice, json: ["name": "bot", "scopes": ["read_api"]])
            let secret = try #require(created.string("token"))
            #expect(try await client.api(.get, "user", token: secret).status == .ok)
            #expect(try await client.api(.delete, "projects/\(project.id)", token: alice).status == .accepted)
            #expect(try await client.api(.get, "user", token: secret).status == .unauthorized)
        }
    }

    @Test("a group token's bot reaches the group's projects with its role, nothing outside; deleting the group ends it", arguments: TestBackend.all)
    func groupTokens(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let group = try await client.createGroup("platform", token: alice)
            let inside = try await client.createProject(["name": "service", "namespace_id": group.id], token: alice)
            let outside = try await client.createProject(["name": "solo"], token: alice)
            let created = try await client.api(
                .post, "groups/\(group.id)/access_tokens", token: alice, json: ["name": "group bot", "scopes": ["api"], "access_level": Level.reporter])
            #expect(created.status == .created, "\(created.text)")
            let secret = try #require(created.string("token"))
            #expect((try await client.api(.get, "user", token: secret).string("username") ?? "").hasPrefix("group_\(group.id)_bot_"))
            #expect(try await client.api(.get, "projects/\(inside.id)/pipelines", token: secret).status == .ok)
            #expect(try await client.api(.post, "projects/\(inside.id)/pipeline", token: secret, json: ["ref": "main"]).status == .forbidden)
            #expect(try await client.api(.get, "projects/\(outside.id)", token: secret).status == .notFound)
            #expect(try await client.api(.get, "groups/\(group.id)/access_tokens", token: alice).array.count == 1)
            #expect(try await client.api(.get, "projects/\(inside.id)/access_tokens", token: alice).array.isEmpty)
            #expect(try await client.api(.delete, "groups/\(group.id)", token: alice).status == .accepted)
            #expect(try await client.api(.get, "user", token: secret).status == .unauthorized)
        }
    }
}
