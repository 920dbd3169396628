import Foundation
import LatchkeyTestSupport
import Testing

@Suite("Users API")
struct UsersAPITests {
    @Test("root sees itself at /user; anonymous gets 401", arguments: TestBackend.all)
    func currentUser(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let me = try await client.api(.get, "user", token: server.rootToken)
            #expect(me.status == .ok)
            #expect(me.object["username"] as? String == "root")
            #expect(me.object["is_admin"] as? Bool == true)
            #expect(try await client.api(.get, "user").status == .unauthorized)
            let bad = try await client.api(.get, "user", token: "glpat-not-a-real-token-0000000000")
            #expect(bad.status == .unauthorized)
            #expect(bad.object["message"] as? String == "401 Unauthorized")
        }
    }

    @Test("GET /users honours active, blocked, admins and dates, refuses what it cannot match, and lets no one spell out e-mail addresses", arguments: TestBackend.all)
    func listFilters(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let (bob, _) = try await server.makeUser("bob")
            try await server.store.users.setBlocked(userID: bob.id, blocked: true)
            func names(_ query: String, token: String) async throws -> [String] {
                try await client.api(.get, "users?\(query)", token: token).array.compactMap { $0["username"] as? String }
            }
            #expect(try await names("active=true", token: alice) == ["root", "alice"])
            #expect(try await names("blocked=true", token: alice) == ["bob"])
            #expect(try await names("admins=true", token: server.rootToken) == ["root"])
            #expect(try await client.api(.get, "users?admins=true", token: alice).status == .forbidden)
            #expect(try await names("external=true", token: alice) == [])
            #expect(try await names("created_after=2000-01-01", token: alice).count == 3)
            #expect(try await names("created_before=2000-01-01", token: alice) == [])
            #expect(try await client.api(.get, "users?created_after=soon", token: alice).status == .badRequest)
            #expect(try await client.api(.get, "users?without_projects=true", token: alice).status == .badRequest)
            // A non-administrator matches a whole e-mail address only; `%` and `_` are literal.
            #expect(try await names("search=example.com", token: alice) == [])
            #expect(try await names("search=bob@example.com", token: alice) == ["bob"])
            #expect(try await names("search=%25", token: alice) == [])
            #expect(try await names("search=b_b", token: alice) == [])
            #expect(Set(try await names("search=example.com", token: server.rootToken)).isSuperset(of: ["alice", "bob"]))
        }
    }

    @Test("block and unblock answer as GitLab: true when changed, null when already blocked, false when already active; no self-block")
    func blockAnswers() async throws {
        try await withTestServer { server, client in
            let (bob, _) = try await server.makeUser("bob")
            let (_, alice) = try await server.makeUser("alice")
            #expect(try await client.api(.post, "users/\(bob.id)/block", token: alice).status == .forbidden)
            let first = try await client.api(.post, "users/\(bob.id)/block", token: server.rootToken)
            #expect(first.status == .created && first.text == "true")
            let again = try await client.api(.post, "users/\(bob.id)/block", token: server.rootToken)
            #expect(again.status == .created && again.text == "null", "\(again.text)")
            #expect(try await client.api(.post, "users/\(bob.id)/unblock", token: server.rootToken).text == "true")
            let active = try await client.api(.post, "users/\(bob.id)/unblock", token: server.rootToken)
            #expect(active.status == .created && active.text == "false", "\(active.text)")
            let root = try #require(try await client.api(.get, "user", token: server.rootToken).object["id"] as? Int)
            let selfBlock = try await client.api(.post, "users/\(root)/block", token: server.rootToken)
            #expect(selfBlock.status == .forbidden)
            #expect(selfBlock.string("message") == "403 Forbidden - The API initiating user cannot be blocked by the API")
            #expect(try await client.api(.post, "users/999999/block", token: server.rootToken).status == .notFound)
        }
    }

    @Test("an administrator creates users; duplicates answer 409 and missing fields 400", arguments: TestBackend.all)
    func createUsers(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let created = try await client.api(
                .post, "users", token: server.rootToken, json: ["username": "alice", "name": "Alice", "email": "alice@example.com", "password": "alice-password"])
            #expect(created.status == .created)
            #expect(created.object["username"] as? String == "alice")
            let again = try await client.api(
                .post, "users", token: server.rootToken, json: ["username": "alice", "name": "Alice", "email": "other@example.com", "password": "alice-password"])
            #expect(again.status == .conflict)
            #expect(again.object["message"] as? String == "Username has already been taken")
            let missing = try await client.api(.post, "users", token: server.rootToken, json: ["username": "bob"])
            #expect(missing.status == .badRequest)
            #expect(missing.object["error"] as? String == "email is missing, name is missing")
            let short = try await client.api(.post, "users", token: server.rootToken, json: ["username": "carol", "name": "C", "email": "c@example.com", "password": "short"])
            #expect(short.status == .badRequest)
            #expect((short.object["message"] as? [String: Any])?["password"] != nil)
        }
    }

    @Test("a non-administrator may not create users or tokens")
    func nonAdminRefused() async throws {
        try await withTestServer { server, client in
            let (alice, token) = try await server.makeUser("alice")
            let response = try await client.api(.post, "users", token: token, json: ["username": "bob", "name": "Bob", "email": "bob@example.com", "password": "bob-password"])
            #expect(response.status == .forbidden)
            let tokenResponse = try await client.api(.post, "users/\(alice.id)/personal_access_tokens", token: token, json: ["name": "x", "scopes": ["api"]])
            #expect(tokenResponse.status == .forbidden)
        }
    }

    @Test("an administrator mints a personal access token that then works, and read_api tokens cannot write")
    func personalAccessTokens() async throws {
        try await withTestServer { server, client in
            let (alice, _) = try await server.makeUser("alice")
            let minted = try await client.api(.post, "users/\(alice.id)/personal_access_tokens", token: server.rootToken, json: ["name": "ci", "scopes": ["read_api"]])
            #expect(minted.status == .created)
            let token = try #require(minted.object["token"] as? String)
            #expect(token.hasPrefix("glpat-"))
            #expect(token.count >= 6 + 43)
            let me = try await client.api(.get, "user", token: token)
            #expect(me.object["username"] as? String == "alice")
            let write = try await client.api(.post, "projects", token: token, json: ["name": "nope"])
            #expect(write.status == .forbidden)
            let badScope = try await client.api(.post, "users/\(alice.id)/personal_access_tokens", token: server.rootToken, json: ["name": "ci", "scopes": ["everything"]])
            #expect(badScope.status == .badRequest)
        }
    }

    @Test("users list paginates with GitLab's headers")
    func pagination() async throws {
        try await withTestServer { server, client in
            for name in ["u1", "u2", "u3", "u4", "u5"] { _ = try await server.makeUser(name) }
            let first = try await client.api(.get, "users?per_page=2", token: server.rootToken)
            #expect(first.array.count == 2)
            #expect(first.headers[.init("X-Total")!] == "6")
            #expect(first.headers[.init("X-Total-Pages")!] == "3")
            #expect(first.headers[.init("X-Next-Page")!] == "2")
            #expect(first.headers[.init("Link")!]?.contains("rel=\"next\"") == true)
            let last = try await client.api(.get, "users?per_page=2&page=3", token: server.rootToken)
            #expect(last.array.count == 2)
            #expect(last.headers[.init("X-Next-Page")!] == "")
            #expect(try await client.api(.get, "users?page=0", token: server.rootToken).status == .badRequest)
            #expect(try await client.api(.get, "users?per_page=abc", token: server.rootToken).status == .badRequest)
        }
    }

    @Test("unknown routes answer GitLab's 404 body")
    func unknownRoute() async throws {
        try await withTestServer { server, client in
            let response = try await client.api(.get, "no/such/route", token: server.rootToken)
            #expect(response.status == .notFound)
            #expect(response.object["error"] as? String == "404 Not Found")
            #expect(try await client.api(.get, "/-/readiness").status == .ok)
        }
    }
}
