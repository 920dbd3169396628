import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import Testing

@Suite("Registry pulls and fine-grained allowlist entries")
struct RegistryPolicyTests {
    @Test("an allowlist entry with default permissions allows pull; a fine-grained one only with read_containers", arguments: TestBackend.all)
    func pullNeedsReadContainers(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (dev, devToken) = try await server.makeUser("dev")
            let app = try await client.createProject(["name": "app"], token: devToken).id
            var entries: [String: [String]?] = ["defaults": nil, "jobsonly": ["read_jobs"], "containers": ["read_containers"], "both": ["read_jobs", "read_containers"]]
            entries["adminjobs"] = ["admin_jobs"]
            for (name, policies) in entries {
                let target = try await client.createProject(["name": name], token: server.rootToken).id
                try await client.addMember("projects", target, userID: dev.id, level: Level.developer, token: server.rootToken)
                var json: [String: any Sendable] = ["target_project_id": app]
                if let policies { json["job_token_policies"] = policies; json["default_permissions"] = false }
                let added = try await client.api(.post, "projects/\(target)/job_token_scope/allowlist", token: server.rootToken, json: json)
                try #require(added.status == .created, "\(name): \(added.status) \(added.text)")
            }
            let job = try await client.runningJob(server, projectID: app, userToken: devToken)
            let scopes = entries.keys.sorted().map { "repository:root/\($0):pull" }
            let token = try await RegistryTokenTests.token(client, scopes, headers: RegistryTokenTests.basic("gitlab-ci-token", job.token))
            #expect(token.access["root/defaults"] == ["pull"])
            #expect(token.access["root/containers"] == ["pull"])
            #expect(token.access["root/both"] == ["pull"])
            #expect(token.access["root/jobsonly"] == nil, "a read_jobs-only entry grants no registry pull")
            #expect(token.access["root/adminjobs"] == nil)
        }
    }

    @Test("read_containers is a policy the allowlist API accepts and lists", arguments: TestBackend.all)
    func policyAccepted(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let source = try await client.createProject(["name": "source"], token: server.rootToken).id
            let target = try await client.createProject(["name": "target"], token: server.rootToken).id
            let added = try await client.api(
                .post, "projects/\(target)/job_token_scope/allowlist", token: server.rootToken,
                json: ["target_project_id": source, "job_token_policies": ["read_containers"], "default_permissions": false])
            #expect(added.status == .created, "\(added.text)")
            #expect(JobTokenPolicy(rawValue: "read_containers") == .readContainers)
            #expect(ProjectAbility.readContainerImage.jobTokenPolicy == .readContainers)
        }
    }
}
