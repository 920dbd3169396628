import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyTestSupport
import Testing

/// A Developer who may not run pipelines on a protected branch gets neither its pipelines nor its protected variables by a
/// side door: CI Lint and the trigger API with a job token from their own branch (found by review, issue 11).
@Suite("Protected refs behind CI Lint and the trigger API")
struct ProtectedRefSecretsTests {
    static let secret = "s3cr3t-deploy-key-value-0042"

    /// A project whose `main` only Maintainers may push or merge to, with a protected variable, and a Developer.
    static func setUp(_ server: TestServer, _ client: any TestClientProtocol) async throws -> (projectID: Int64, developer: String) {
        let project = try await client.createProject(["name": "app"], token: server.rootToken)
        let repository = server.environment.repositories.path(projectID: project.id)
        try GitFixtures.commit([".gitlab-ci.yml": "build:\n  script: echo main\n"], to: repository)
        try GitFixtures.commit([".gitlab-ci.yml": "build:\n  script: echo feature\n"], to: repository, branch: "feature")
        // A new project's `main` lets Developers push; this one is for Maintainers only.
        #expect(try await client.api(.delete, "projects/\(project.id)/protected_branches/main", token: server.rootToken).status == .noContent)
        let protect = try await client.api(
            .post, "projects/\(project.id)/protected_branches", token: server.rootToken,
            json: ["name": "main", "push_access_level": 40, "merge_access_level": 40])
        #expect(protect.status == .created, "\(protect.text)")
        let variable = try await client.api(
            .post, "projects/\(project.id)/variables", token: server.rootToken, json: ["key": "SECRET", "value": secret, "protected": true])
        #expect(variable.status == .created, "\(variable.text)")
        let (developer, token) = try await server.makeUser("dev")
        try await client.addMember("projects", project.id, userID: developer.id, level: Level.developer, token: server.rootToken)
        return (project.id, token)
    }

    @Test("CI Lint on a protected ref never evaluates its protected variables for a Developer", arguments: TestBackend.all)
    func lint(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (projectID, developer) = try await Self.setUp(server, client)
            let probes = [
                "include:\n  - project: \"$SECRET\"\n    file: a.yml\nbuild:\n  script: echo\n",
                "build:\n  script: echo\n  rules:\n    - if: '$SECRET =~ /^s3/'\n",
            ]
            for content in probes {
                for dryRun in [false, true] {
                    let answer = try await client.api(
                        .post, "projects/\(projectID)/ci/lint", token: developer,
                        json: ["content": content, "ref": "main", "dry_run": dryRun, "include_jobs": true])
                    #expect(answer.status == .ok, "\(answer.text)")
                    #expect(!answer.text.contains(Self.secret), "\(answer.text)")
                    // Without the variable the rule is false: no job, so the secret's value cannot be read off the outcome either.
                    if content.contains("rules"), !dryRun { #expect((answer.object["jobs"] as? [Any])?.isEmpty ?? true, "\(answer.text)") }
                }
            }
        }
    }

    @Test("a Developer's job token cannot trigger a pipeline on a protected branch; on their own branch it can", arguments: TestBackend.all)
    func trigger(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (projectID, developer) = try await Self.setUp(server, client)
            let pipeline = try await client.api(.post, "projects/\(projectID)/pipeline", token: developer, json: ["ref": "feature"])
            try #require(pipeline.status == .created, "\(pipeline.text)")
            let direct = try await client.api(.post, "projects/\(projectID)/pipeline", token: developer, json: ["ref": "main"])
            #expect(direct.status != .created, "the Developer may not run pipelines on main at all: \(direct.text)")
            let runner = try await client.api(.post, "runners", json: ["token": try await server.environment.registrationToken()])
            let claimed = try await client.api(.post, "jobs/request", json: ["token": try #require(runner.object["token"] as? String)])
            let jobToken = try #require(claimed.object["token"] as? String, "\(claimed.status)")
            let onMain = try await client.api(.post, "projects/\(projectID)/trigger/pipeline", form: "token=\(jobToken)&ref=main")
            #expect(onMain.status == .notFound, "\(onMain.status) \(onMain.text)")
            let onFeature = try await client.api(.post, "projects/\(projectID)/trigger/pipeline", form: "token=\(jobToken)&ref=feature")
            #expect(onFeature.status == .created, "\(onFeature.status) \(onFeature.text)")
        }
    }
}
