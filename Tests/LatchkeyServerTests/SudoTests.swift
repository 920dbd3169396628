import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import Testing

@Suite("Sudo")
struct SudoTests {
    static func sudo(_ name: String) -> HTTPFields { [HTTPField.Name("Sudo")!: name] }

    @Test("an administrator's token with the sudo scope acts as the user named by username or id, header or query", arguments: TestBackend.all)
    func actsAsUser(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (alice, _) = try await server.makeUser("alice")
            let byName = try await client.api(.get, "user", token: server.rootToken, headers: Self.sudo("alice"))
            #expect(byName.status == .ok)
            #expect(byName.string("username") == "alice")
            let byID = try await client.api(.get, "user", token: server.rootToken, headers: Self.sudo(String(alice.id)))
            #expect(byID.string("username") == "alice")
            let byQuery = try await client.api(.get, "user?sudo=alice", token: server.rootToken)
            #expect(byQuery.string("username") == "alice")

            // What alice cannot see, root acting as alice cannot see either.
            let secret = try await client.createProject(["name": "secret"], token: server.rootToken).id
            #expect(try await client.api(.get, "projects/\(secret)", token: server.rootToken).status == .ok)
            let asAlice = try await client.api(.get, "projects/\(secret)", token: server.rootToken, headers: Self.sudo("alice"))
            #expect(asAlice.status == .notFound)
            // And what root creates as alice belongs to alice.
            let created = try await client.api(.post, "projects", token: server.rootToken, json: ["name": "mine"], headers: Self.sudo("alice"))
            #expect(created.status == .created)
            #expect((created.object["namespace"] as? [String: Any])?["full_path"] as? String == "alice")
        }
    }

    @Test("an unknown sudo user is GitLab's 404", arguments: TestBackend.all)
    func unknownUser(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let response = try await client.api(.get, "user", token: server.rootToken, headers: Self.sudo("nobody"))
            #expect(response.status == .notFound)
            #expect(response.string("message") == "404 User with ID or username 'nobody' Not Found")
            let byID = try await client.api(.get, "user", token: server.rootToken, headers: Self.sudo("987654"))
            #expect(byID.string("message") == "404 User with ID or username '987654' Not Found")
        }
    }

    @Test("an administrator's token without the sudo scope gets insufficient_scope, never its own identity", arguments: TestBackend.all)
    func adminWithoutScope(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            _ = try await server.makeUser("alice")
            let (_, adminToken) = try await server.makeUser("ada", admin: true, scopes: [.api])
            let response = try await client.api(.get, "user", token: adminToken, headers: Self.sudo("alice"))
            #expect(response.status == .forbidden)
            #expect(response.string("error") == "insufficient_scope")
            #expect(response.string("scope") == "sudo")
            #expect(response.string("username") == nil)
        }
    }

    @Test("anyone else is refused: a non-administrator (even with the sudo scope) 403, a job token 403, no credentials 401", arguments: TestBackend.all)
    func othersRefused(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            _ = try await server.makeUser("alice")
            let (_, bobToken) = try await server.makeUser("bob", scopes: [.api, .sudo])
            let bob = try await client.api(.get, "user", token: bobToken, headers: Self.sudo("alice"))
            #expect(bob.status == .forbidden)
            #expect(bob.string("message") == "403 Forbidden - Must be admin to use sudo")

            let project = try await client.createProject(["name": "app"], token: server.rootToken).id
            let job = try await client.runningJob(server, projectID: project, userToken: server.rootToken)
            var headers = job.headers
            headers[HTTPField.Name("Sudo")!] = "alice"
            let asJob = try await client.api(.get, "job", headers: headers)
            #expect(asJob.status == .forbidden, "\(asJob.text)")
            let jobOnAPI = try await client.api(.get, "projects/\(project)", headers: headers)
            #expect(jobOnAPI.status == .forbidden)

            let anonymous = try await client.api(.get, "projects", headers: Self.sudo("alice"))
            #expect(anonymous.status == .unauthorized)
        }
    }
}
