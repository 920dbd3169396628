import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import Testing

@testable import LatchkeyServer

@Suite("Pipeline names: workflow:name and PUT …/pipelines/:id/metadata")
struct PipelineMetadataTests {
    static let ci = "workflow:\n  name: 'Deploy $CI_COMMIT_BRANCH'\nbuild:\n  script: echo build\n"

    @Test("workflow:name names the pipeline; Developers and the pipeline's own job rename it; others and bad names are refused", arguments: TestBackend.all)
    func rename(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let created = try await client.api(.post, "projects", token: server.rootToken, json: ["name": "app"])
            let projectID = try #require(created.object["id"] as? Int)
            try GitFixtures.commit([".gitlab-ci.yml": Self.ci], to: server.environment.repositories.path(projectID: Int64(projectID)))
            let pipeline = try await client.api(.post, "projects/\(projectID)/pipeline", token: server.rootToken, json: ["ref": "main"])
            #expect(pipeline.status == .created)
            #expect(pipeline.string("name") == "Deploy main", "\(pipeline.text)")
            let pipelineID = try #require(pipeline.object["id"] as? Int)
            let listed = try await client.api(.get, "projects/\(projectID)/pipelines", token: server.rootToken)
            #expect(listed.array.first?["name"] as? String == "Deploy main")
            let path = "projects/\(projectID)/pipelines/\(pipelineID)/metadata"

            let renamed = try await client.api(.put, path, token: server.rootToken, json: ["name": "Release 1.2"])
            #expect(renamed.status == .ok, "\(renamed.text)")
            #expect(renamed.string("name") == "Release 1.2" && renamed.object["id"] as? Int == pipelineID)
            #expect(try await client.api(.get, "projects/\(projectID)/pipelines/\(pipelineID)", token: server.rootToken).string("name") == "Release 1.2")
            #expect(try await client.api(.put, path, token: server.rootToken, json: [:]).status == .badRequest)
            #expect(try await client.api(.put, path, token: server.rootToken, json: ["name": String(repeating: "n", count: 256)]).status == .badRequest)
            #expect(try await client.api(.put, "projects/\(projectID)/pipelines/999999/metadata", token: server.rootToken, json: ["name": "x"]).status == .notFound)

            let (bob, bobToken) = try await server.makeUser("bob")
            try await client.addMember("projects", Int64(projectID), userID: bob.id, level: Level.reporter, token: server.rootToken)
            #expect(try await client.api(.put, path, token: bobToken, json: ["name": "x"]).status == .forbidden)
            let (_, stranger) = try await server.makeUser("stranger")
            #expect(try await client.api(.put, path, token: stranger, json: ["name": "x"]).status == .notFound)
            #expect([401, 404].contains(try await client.api(.put, path, json: ["name": "x"]).status.code))

            // The pipeline's running job names it with its own token (GitLab's job-token table).
            let registration = try await server.environment.registrationToken()
            let runner = try await client.api(.post, "runners", json: ["token": registration])
            let claimed = try await client.api(.post, "jobs/request", json: ["token": try #require(runner.string("token"))])
            let jobToken = try #require(claimed.string("token"))
            var headers = HTTPFields()
            headers[HTTPField.Name("JOB-TOKEN")!] = jobToken
            let byJob = try await client.api(.put, path, json: ["name": "Named by its job"], headers: headers)
            #expect(byJob.status == .ok, "\(byJob.text)")
            #expect(byJob.string("name") == "Named by its job")

            // A live token pasted into the name dies and the name is refused.
            let leaked = try await client.api(.put, path, token: server.rootToken, json: ["name": "oops \(bobToken)"])
            #expect(leaked.status == .badRequest, "\(leaked.text)")
            #expect(try await client.api(.get, "user", token: bobToken).status == .unauthorized)
            #expect(try await client.api(.get, "projects/\(projectID)/pipelines/\(pipelineID)", token: server.rootToken).string("name") == "Named by its job")
        }
    }
}
