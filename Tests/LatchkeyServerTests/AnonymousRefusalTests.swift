import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyTestSupport
import Testing

@Suite("Anonymous requests: authenticate before find")
struct AnonymousRefusalTests {
    /// Routes whose GitLab API runs `before { authenticate! }`: 401 for anyone without credentials, whatever the project.
    static let authenticatedOnly: [(HTTPRequest.Method, String)] = [
        (.get, "job_token_scope"), (.patch, "job_token_scope"), (.get, "job_token_scope/allowlist"), (.post, "job_token_scope/allowlist"),
        (.delete, "job_token_scope/allowlist/1"), (.get, "job_token_scope/groups_allowlist"), (.post, "job_token_scope/groups_allowlist"),
        (.delete, "job_token_scope/groups_allowlist/1"), (.get, "job_token_scope/authentication_log"), (.post, "job_token_scope/autopopulate"),
        (.get, "variables"), (.post, "variables"), (.get, "variables/KEY"), (.put, "variables/KEY"), (.delete, "variables/KEY"),
        (.get, "members"), (.post, "members"), (.get, "members/all"), (.delete, "members/1"),
        (.get, "jobs"), (.get, "jobs/1"), (.post, "jobs/1/play"), (.get, "jobs/1/trace"),
        (.get, "pipeline_schedules"), (.post, "pipeline_schedules"), (.post, "pipeline_schedules/1/play"),
        (.get, "triggers"), (.post, "triggers"),
    ]

    /// Routes whose GitLab API runs `authenticate_non_get!`: reads stay open to anonymous callers, writes need credentials first.
    static let authenticatedWrites: [(HTTPRequest.Method, String)] = [(.put, ""), (.delete, ""), (.post, "pipeline")]

    @Test("anonymous calls to authenticated-only project APIs get 401 before any lookup: private, public and missing projects alike", arguments: TestBackend.all)
    func authenticateFirst(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let secret = try await client.createProject(["name": "secret"], token: server.rootToken).id
            let open = try await client.createProject(["name": "open", "visibility": "public"], token: server.rootToken).id
            for project in ["\(secret)", "\(open)", "root%2Fsecret", "999999"] {
                for (method, path) in Self.authenticatedOnly {
                    let response = try await client.api(method, "projects/\(project)/\(path)", json: method == .get ? nil : [:])
                    #expect(response.status == .unauthorized, "\(method) projects/\(project)/\(path): \(response.status)")
                    #expect(response.string("message") == "401 Unauthorized", "\(method) projects/\(project)/\(path)")
                }
                for (method, path) in Self.authenticatedWrites {
                    let response = try await client.api(method, "projects/\(project)" + (path.isEmpty ? "" : "/\(path)"), json: [:])
                    #expect(response.status == .unauthorized, "\(method) projects/\(project)/\(path): \(response.status)")
                }
            }
            #expect(try await client.api(.delete, "groups/999999").status == .unauthorized)
            #expect(try await client.api(.get, "application/settings").status == .unauthorized)
            // Reads of public projects stay open; of private ones, hidden.
            #expect(try await client.api(.get, "projects/\(open)").status == .ok)
            #expect(try await client.api(.get, "projects/\(secret)").status == .notFound)
        }
    }

    @Test("with credentials the order goes on: find (404 for what the caller cannot see), then authorize (403)", arguments: TestBackend.all)
    func thenFindThenAuthorize(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (alice, aliceToken) = try await server.makeUser("alice")
            let secret = try await client.createProject(["name": "secret"], token: server.rootToken).id
            let shared = try await client.createProject(["name": "shared"], token: server.rootToken).id
            try await client.addMember("projects", shared, userID: alice.id, level: Level.developer, token: server.rootToken)
            let hidden = try await client.api(.patch, "projects/\(secret)/job_token_scope", token: aliceToken, json: ["enabled": false])
            #expect(hidden.status == .notFound)
            let refused = try await client.api(.patch, "projects/\(shared)/job_token_scope", token: aliceToken, json: ["enabled": false])
            #expect(refused.status == .forbidden)
        }
    }
}
