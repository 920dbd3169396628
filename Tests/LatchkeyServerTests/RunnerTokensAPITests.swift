import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import Testing

/// The runner calls of GitLab's newer token flow: created runners, manager removal, token reset.
@Suite("Runner authentication tokens")
struct RunnerTokensAPITests {
    @Test("an administrator creates an instance runner with POST /user/runners and gitlab-runner can use its glrt- token", arguments: TestBackend.all)
    func createdRunner(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            #expect(try await client.api(.post, "user/runners", json: ["runner_type": "instance_type"]).status == .unauthorized)
            let (_, alice) = try await server.makeUser("alice")
            #expect(try await client.api(.post, "user/runners", token: alice, json: ["runner_type": "instance_type"]).status == .forbidden)
            let missing = try await client.api(.post, "user/runners", token: server.rootToken, json: ["description": "x"])
            #expect(missing.status == .badRequest && missing.object["error"] as? String == "runner_type is missing")
            let invalid = try await client.api(.post, "user/runners", token: server.rootToken, json: ["runner_type": "ufo"])
            #expect(invalid.status == .badRequest && invalid.object["error"] as? String == "runner_type does not have a valid value")
            #expect(try await client.api(.post, "user/runners", token: server.rootToken, json: ["runner_type": "project_type", "project_id": 1]).status == .badRequest)

            let created = try await client.api(
                .post, "user/runners", token: server.rootToken, json: ["runner_type": "instance_type", "description": "made by root", "tag_list": "linux,docker"])
            #expect(created.status == .created, "\(created.text)")
            let token = try #require(created.object["token"] as? String)
            #expect(token.hasPrefix("glrt-"))
            #expect(created.object["id"] as? Int != nil)
            #expect(created.object.keys.contains("token_expires_at"))
            // What `gitlab-runner register --token glrt-…` does, then a job request.
            #expect(try await client.api(.post, "runners/verify", json: ["token": token, "system_id": "s_0123456789ab"]).status == .ok)
            #expect(try await client.api(.post, "jobs/request", json: ["token": token]).status == .noContent)
        }
    }

    @Test("gitlab-runner unregister with a glrt- token removes its manager (204) and the runner keeps working; a wrong token is 403")
    func unregisterManager() async throws {
        try await withTestServer { server, client in
            let created = try await client.api(.post, "user/runners", token: server.rootToken, json: ["runner_type": "instance_type"])
            let token = try #require(created.object["token"] as? String)
            #expect(try await client.api(.delete, "runners/managers", json: ["token": token, "system_id": "s_0123456789ab"]).status == .noContent)
            #expect(try await client.api(.post, "runners/verify", json: ["token": token]).status == .ok)
            #expect(try await client.api(.delete, "runners/managers", json: ["token": "glrt-wrong", "system_id": "s_0123456789ab"]).status == .forbidden)
            #expect(try await client.api(.delete, "runners/managers", json: ["system_id": "s_0123456789ab"]).status == .badRequest)
        }
    }

    @Test("POST /runners/reset_authentication_token hands out a new token and the old one dies at once", arguments: TestBackend.all)
    func resetToken(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let created = try await client.api(.post, "user/runners", token: server.rootToken, json: ["runner_type": "instance_type"])
            let old = try #require(created.object["token"] as? String)
            let reset = try await client.api(.post, "runners/reset_authentication_token", json: ["token": old])
            #expect(reset.status == .created, "\(reset.text)")
            let new = try #require(reset.object["token"] as? String)
            #expect(new.hasPrefix("glrt-") && new != old)
            #expect(try await client.api(.post, "runners/verify", json: ["token": old]).status == .forbidden)
            #expect(try await client.api(.post, "runners/verify", json: ["token": new]).status == .ok)
            #expect(try await client.api(.post, "runners/reset_authentication_token", json: ["token": old]).status == .forbidden)
        }
    }
}
