import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import Testing

@Suite("Tags API: create and delete")
struct TagsAPITests {
    @Test("tags are made lightweight or annotated and deleted, with GitLab's refusals", arguments: TestBackend.all)
    func tags(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let (reporter, reporterToken) = try await server.makeUser("rep")
            let (_, outsider) = try await server.makeUser("outsider")
            let project = try await client.createProject(["name": "app"], token: alice)
            try await client.addMember("projects", project.id, userID: reporter.id, level: Level.reporter, token: alice)
            let sha = try GitFixtures.commit(["README.md": "hi\n"], to: server.environment.repositories.path(projectID: project.id))
            let base = "projects/\(project.id)/repository/tags"

            let light = try await client.api(.post, base, token: alice, json: ["tag_name": "v1.0", "ref": "main"])
            #expect(light.status == .created, "\(light.text)")
            #expect(light.string("name") == "v1.0")
            #expect(light.string("target") == sha)
            #expect(light.object["message"] as? String == "")
            let annotated = try await client.api(.post, base, token: alice, json: ["tag_name": "release/2", "ref": sha, "message": "Second"])
            #expect(annotated.status == .created)
            #expect(annotated.string("message") == "Second")
            #expect(annotated.string("target") != sha)
            #expect((annotated.object["commit"] as? [String: Any])?["id"] as? String == sha)

            let again = try await client.api(.post, base, token: alice, json: ["tag_name": "v1.0", "ref": "main"])
            #expect(again.status == .badRequest)
            #expect(again.string("message") == "Tag v1.0 already exists")
            let badRef = try await client.api(.post, base, token: alice, json: ["tag_name": "v2", "ref": "nope"])
            #expect(badRef.string("message") == "Target nope is invalid")
            for name in ["a..b", "-x", "a b", "x~1", "a:b", "x.lock"] {
                let invalid = try await client.api(.post, base, token: alice, json: ["tag_name": name, "ref": "main"])
                #expect(invalid.status == .badRequest, "\(name): \(invalid.status)")
                #expect(invalid.string("message") == "Tag name invalid", "\(name): \(invalid.text)")
            }
            #expect(try await client.api(.post, base, token: alice, json: ["ref": "main"]).string("error") == "tag_name is missing")

            // authenticate, find, authorize; a job token is no credential here.
            #expect(try await client.api(.post, base, json: ["tag_name": "x", "ref": "main"]).status == .unauthorized)
            #expect(try await client.api(.post, base, token: outsider, json: ["tag_name": "x", "ref": "main"]).status == .notFound)
            #expect(try await client.api(.post, base, token: reporterToken, json: ["tag_name": "x", "ref": "main"]).status == .forbidden)
            #expect(try await client.api(.delete, "\(base)/v1.0", token: reporterToken).status == .forbidden)
            #expect(try await client.api(.delete, "\(base)/v1.0").status == .unauthorized)
            let job = try await client.runningJob(server, projectID: project.id, userToken: alice)
            let jobHeaders: HTTPFields = [HTTPField.Name("JOB-TOKEN")!: job.token]
            #expect(try await client.api(.post, base, json: ["tag_name": "x", "ref": "main"], headers: jobHeaders).status == .unauthorized)
            #expect(try await client.api(.delete, "\(base)/v1.0", headers: jobHeaders).status == .unauthorized)

            #expect(try await client.api(.delete, "\(base)/release%2F2", token: alice).status == .noContent)
            #expect(try await client.api(.delete, "\(base)/v1.0", token: alice).status == .noContent)
            let gone = try await client.api(.delete, "\(base)/v1.0", token: alice)
            #expect(gone.status == .notFound)
            #expect(gone.string("message") == "No such tag")
            #expect(try await server.environment.repositories.tags(projectID: project.id).isEmpty)
        }
    }
}
