import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import Testing

@Suite("Claiming jobs")
struct JobClaimTests {
    @Test("jobs needing tags no runner has never starve a later job the runner can take", arguments: TestBackend.all)
    func noStarvation(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            // 150 jobs no runner can run come first (more than a page of pending jobs), then one any runner can.
            var ci = (0..<150).map { "gpu\($0):\n  tags: [gpu]\n  script: echo gpu\n" }.joined()
            ci += "plain:\n  script: echo plain\n"
            let created = try await client.api(.post, "projects", token: server.rootToken, json: ["name": "app"])
            let projectID = try #require(created.object["id"] as? Int)
            try GitFixtures.commit([".gitlab-ci.yml": ci], to: server.environment.repositories.path(projectID: Int64(projectID)))
            #expect(try await client.api(.post, "projects/\(projectID)/pipeline", token: server.rootToken, json: ["ref": "main"]).status == .created)
            let registration = try await server.environment.registrationToken()
            let runner = try await client.api(.post, "runners", json: ["token": registration, "description": "untagged"])
            let runnerToken = try #require(runner.object["token"] as? String)
            let claimed = try await client.api(.post, "jobs/request", json: ["token": runnerToken])
            #expect(claimed.status == .created)
            #expect((claimed.object["job_info"] as? [String: Any])?["name"] as? String == "plain", "\(claimed.text.prefix(300))")
            // Nothing else fits this runner.
            #expect(try await client.api(.post, "jobs/request", json: ["token": runnerToken]).status == .noContent)
        }
    }
}
