import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import Testing

/// Nothing the server keeps between requests may let a revoked token or a removed membership through: the stale window is
/// zero requests, on the instance that made the change and on another one over the same database.
@Suite("Revocation takes effect on the very next request")
struct RevocationWindowTests {
    @Test("a personal access token revoked on one instance is refused by the next request on either", arguments: TestBackend.all)
    func revokedToken(backend: TestBackend) async throws {
        try await withTwoTestServers(backend) { server, a, b in
            let (_, token) = try await server.makeUser("dev")
            for client in [a, b] {
                for _ in 0..<3 { #expect(try await client.api(.get, "user", token: token).status == .ok) }
            }
            #expect(try await a.api(.delete, "personal_access_tokens/self", token: token).status == .noContent)
            #expect(try await b.api(.get, "user", token: token).status == .unauthorized)
            #expect(try await a.api(.get, "user", token: token).status == .unauthorized)
        }
    }

    @Test("a membership removed on one instance no longer opens the project on the next request on either", arguments: TestBackend.all)
    func removedMembership(backend: TestBackend) async throws {
        try await withTwoTestServers(backend) { server, a, b in
            let (dev, token) = try await server.makeUser("dev")
            let project = try await a.createProject(["name": "app", "visibility": "private"], token: server.rootToken).id
            try await a.addMember("projects", project, userID: dev.id, level: 30, token: server.rootToken)
            for client in [a, b] {
                for _ in 0..<3 {
                    #expect(try await client.api(.get, "projects/\(project)", token: token).status == .ok)
                    #expect(try await client.api(.get, "projects", token: token).ids == [project])
                }
            }
            #expect(try await a.api(.delete, "projects/\(project)/members/\(dev.id)", token: server.rootToken).status == .noContent)
            #expect(try await b.api(.get, "projects/\(project)", token: token).status == .notFound)
            #expect(try await b.api(.get, "projects", token: token).ids == [])
            #expect(try await a.api(.get, "projects/\(project)", token: token).status == .notFound)
        }
    }

    @Test("a blocked user's token is refused by the next request on the other instance", arguments: TestBackend.all)
    func blockedUser(backend: TestBackend) async throws {
        try await withTwoTestServers(backend) { server, a, b in
            let (dev, token) = try await server.makeUser("dev")
            #expect(try await b.api(.get, "user", token: token).status == .ok)
            #expect(try await a.api(.post, "users/\(dev.id)/block", token: server.rootToken).status == .created)
            #expect(try await b.api(.get, "user", token: token).status == .unauthorized)
        }
    }
}
