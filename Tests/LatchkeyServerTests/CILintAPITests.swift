import Foundation
import HummingbirdTesting
import LatchkeyTestSupport
import Testing

@Suite("CI Lint API")
struct CILintAPITests {
    @Test("POST and GET ci/lint answer valid, errors, merged_yaml with includes, and jobs when asked; roles as GitLab", arguments: TestBackend.all)
    func lint(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let fixture = try await JobTokenFixture(server, client)
            let projectID = try await fixture.project("app")
            let repository = server.environment.repositories.path(projectID: projectID)
            let sha = try GitFixtures.commit(
                [".gitlab-ci.yml": "include:\n  - local: other.yml\ntest:\n  stage: test\n  script: echo 1\n", "other.yml": "another:\n  script: echo 2\n"],
                to: repository)
            let root = Credential.pat(server.rootToken)
            let lint = "projects/\(projectID)/ci/lint"

            let good = try await client.send(.get, lint + "?include_jobs=true", root)
            #expect(good.status == .ok, "\(good.text)")
            #expect(good.object["valid"] as? Bool == true)
            #expect((good.object["errors"] as? [String]) == [])
            #expect((good.object["warnings"] as? [String]) == [])
            let merged = try #require(good.string("merged_yaml"))
            #expect(merged.hasPrefix("---\n"))
            #expect(merged.contains("another:") && merged.contains("test:") && !merged.contains("include"))
            let include = try #require((good.object["includes"] as? [[String: Any]])?.first)
            #expect(include["type"] as? String == "local")
            #expect(include["location"] as? String == "other.yml")
            #expect(include["blob"] as? String == "http://latchkey.test/root/app/-/blob/\(sha)/other.yml")
            #expect(include["context_sha"] as? String == sha)
            let jobs = try #require(good.object["jobs"] as? [[String: Any]])
            #expect(Set(jobs.compactMap { $0["name"] as? String }) == ["test", "another"])
            #expect(jobs.first { $0["name"] as? String == "test" }?["script"] as? [String] == ["echo 1"])
            #expect(try await client.send(.get, lint, root).object["jobs"] == nil, "jobs only with include_jobs")

            let bad = try await client.send(.post, lint, root, json: ["content": "image: ruby:3\n"])
            #expect(bad.status == .ok)
            #expect(bad.object["valid"] as? Bool == false)
            #expect((bad.object["errors"] as? [String])?.isEmpty == false)
            let broken = try await client.send(.post, lint, root, json: ["content": "a: [\n"])
            #expect(broken.object["valid"] as? Bool == false)
            #expect(broken.object["merged_yaml"] is NSNull)
            let empty = try await client.send(.post, lint, root, json: ["content": ""])
            #expect((empty.object["errors"] as? [String]) == ["Please provide content of .gitlab-ci.yml"])
            let dry = try await client.send(.post, lint, root, json: ["content": "job:\n  script: ls\n", "dry_run": true, "include_jobs": true])
            #expect(dry.object["valid"] as? Bool == true, "\(dry.text)")
            #expect((dry.object["jobs"] as? [[String: Any]])?.first?["name"] as? String == "job")
            #expect(try await client.send(.post, lint, root, json: [:]).status == .badRequest)

            let (_, reporter) = try await fixture.user("reporter", level: Level.reporter, on: projectID)
            let (_, guest) = try await fixture.user("guest", level: Level.guest, on: projectID)
            let (_, stranger) = try await fixture.user("stranger", level: nil, on: projectID)
            #expect(try await client.send(.get, lint, .pat(reporter)).status == .ok)
            let reporterDry = try await client.send(.get, lint + "?dry_run=true", .pat(reporter))
            #expect((reporterDry.object["errors"] as? [String]) == ["Insufficient permissions to create a new pipeline"])
            #expect(try await client.send(.post, lint, .pat(reporter), json: ["content": "job:\n  script: ls\n"]).status == .forbidden)
            #expect(try await client.send(.get, lint, .pat(guest)).status == .forbidden)
            #expect(try await client.send(.get, lint, .pat(stranger)).status == .notFound)
            #expect(try await client.send(.get, lint, .none).status == .notFound)
            #expect(try await client.send(.get, lint + "?content_ref=nope", root).status == .notFound)
            #expect(try await client.send(.get, lint + "?content_ref=--output%3Dx", root).status == .notFound)
        }
    }
}
