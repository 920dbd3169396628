import Foundation
import HummingbirdTesting
import LatchkeyCore
import LatchkeyStore
import LatchkeyTestSupport
import Testing

@Suite("Pipelines and jobs API")
struct PipelinesAPITests {
    static let config = """
        stages: [build, test]
        build:
          stage: build
          script: echo build
        release:
          stage: build
          script: echo release
          when: manual
        test:
          stage: test
          script: echo test
        """

    static let oneJob = "only:\n  script: echo one\n"

    /// A private project of alice's with a commit holding `config` on main, and a Developer, Reporter and Guest.
    struct Fixture {
        var projectID: Int64
        var sha: String
        var alice: String
        var developer: (User, String)
        var reporter: (User, String)
        var guest: (User, String)
        var repository: URL
    }

    private func fixture(_ server: TestServer, _ client: some TestClientProtocol, config: String = Self.config) async throws -> Fixture {
        let (_, alice) = try await server.makeUser("alice")
        let developer = try await server.makeUser("dev")
        let reporter = try await server.makeUser("reporter")
        let guest = try await server.makeUser("guest")
        let project = try await client.createProject(["name": "app"], token: alice)
        try await client.addMember("projects", project.id, userID: developer.0.id, level: Level.developer, token: alice)
        try await client.addMember("projects", project.id, userID: reporter.0.id, level: Level.reporter, token: alice)
        try await client.addMember("projects", project.id, userID: guest.0.id, level: Level.guest, token: alice)
        let repository = server.environment.repositories.path(projectID: project.id)
        let sha = try GitFixtures.commit([".gitlab-ci.yml": config], to: repository)
        return Fixture(projectID: project.id, sha: sha, alice: alice, developer: developer, reporter: reporter, guest: guest, repository: repository)
    }

    private func jobs(_ client: some TestClientProtocol, _ f: Fixture, pipeline: Int64, query: String = "") async throws -> [String: [String: Any]] {
        let response = try await client.api(.get, "projects/\(f.projectID)/pipelines/\(pipeline)/jobs\(query)", token: f.alice)
        try #require(response.status == .ok, "\(response.text)")
        return Dictionary(response.array.map { ($0["name"] as? String ?? "", $0) }, uniquingKeysWith: { first, _ in first })
    }

    @Test("POST /pipeline creates a pipeline as the caller, its jobs pending or created by stage", arguments: TestBackend.all)
    func create(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let f = try await fixture(server, client)
            let created = try await client.api(
                .post, "projects/\(f.projectID)/pipeline", token: f.developer.1,
                json: ["ref": "main", "variables": [["key": "GREETING", "value": "hi"]]])
            #expect(created.status == .created)
            #expect(created.string("ref") == "main")
            #expect(created.string("sha") == f.sha)
            #expect(created.string("source") == "api")
            #expect(created.string("status") == "pending")
            #expect((created.object["user"] as? [String: Any])?["username"] as? String == "dev")
            #expect(created.string("web_url") == "http://latchkey.test/alice/app/-/pipelines/\(created.id)")
            #expect(created.object["yaml_errors"] is NSNull)
            let variables = try await client.api(.get, "projects/\(f.projectID)/pipelines/\(created.id)/variables", token: f.developer.1)
            #expect(variables.array.count == 1, "\(variables.text)")
            #expect(variables.array.first?["key"] as? String == "GREETING")
            #expect(variables.array.first?["value"] as? String == "hi")
            #expect(variables.array.first?["variable_type"] as? String == "env_var")
            let bridges = try await client.api(.get, "projects/\(f.projectID)/pipelines/\(created.id)/bridges", token: f.developer.1)
            #expect(bridges.status == .ok && bridges.array.isEmpty)
            #expect(try await client.api(.get, "projects/\(f.projectID)/pipelines/999999/variables", token: f.developer.1).status == .notFound)
            // A Reporter sees the pipeline but not the values it was started with.
            #expect(try await client.api(.get, "projects/\(f.projectID)/pipelines/\(created.id)/variables", token: f.reporter.1).status == .forbidden)

            let byName = try await jobs(client, f, pipeline: created.id)
            #expect(byName["build"]?["status"] as? String == "pending")
            #expect(byName["release"]?["status"] as? String == "manual")
            #expect(byName["test"]?["status"] as? String == "created")
            #expect(byName["test"]?["stage"] as? String == "test")
            #expect((byName["build"]?["user"] as? [String: Any])?["username"] as? String == "dev")
            #expect((byName["build"]?["pipeline"] as? [String: Any])?["id"] as? Int == Int(created.id))

            let shown = try await client.api(.get, "projects/\(f.projectID)/pipelines/\(created.id)", token: f.reporter.1)
            #expect(shown.status == .ok)
            #expect(shown.id == created.id)
            #expect(try await client.api(.get, "projects/\(f.projectID)/pipelines/999999", token: f.alice).status == .notFound)
            let byPath = try await client.api(.post, "projects/alice%2Fapp/pipeline", token: f.alice, form: "ref=main")
            #expect(byPath.status == .created)
            #expect((byPath.object["user"] as? [String: Any])?["username"] as? String == "alice")
        }
    }

    @Test(
        "POST /pipeline refuses a missing ref, an unknown ref, a missing or invalid .gitlab-ci.yml with GitLab's bodies", arguments: TestBackend.all)
    func createRefusals(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let f = try await fixture(server, client)
            let plainProject = try await client.createProject(["name": "plain"], token: f.alice)
            try await client.addMember("projects", plainProject.id, userID: f.developer.0.id, level: Level.developer, token: f.alice)
            try GitFixtures.commit(["README.md": "no ci here"], to: server.environment.repositories.path(projectID: plainProject.id))
            try GitFixtures.commit([".gitlab-ci.yml": "build:\n  script: echo\n  frobnicate: true\n"], to: f.repository, branch: "broken")
            try GitFixtures.commit([".gitlab-ci.yml": "build: [unclosed\n"], to: f.repository, branch: "garbled")
            let path = "projects/\(f.projectID)/pipeline"

            let noRef = try await client.api(.post, path, token: f.developer.1, json: [:])
            #expect(noRef.status == .badRequest)
            #expect(noRef.string("error") == "ref is missing")
            let unknown = try await client.api(.post, path, token: f.developer.1, json: ["ref": "nope"])
            #expect(unknown.status == .badRequest)
            #expect(unknown.problems == ["base": ["Reference not found"]])
            let plain = try await client.api(.post, "projects/\(plainProject.id)/pipeline", token: f.developer.1, json: ["ref": "main"])
            #expect(plain.status == .badRequest)
            #expect(plain.problems == ["base": ["Missing CI config file"]])
            let broken = try await client.api(.post, path, token: f.developer.1, json: ["ref": "broken"])
            #expect(broken.status == .badRequest)
            #expect(broken.problems["base"] == ["jobs:build config contains unknown keys: frobnicate"])
            let garbled = try await client.api(.post, path, token: f.developer.1, json: ["ref": "garbled"])
            #expect(garbled.status == .badRequest)
            #expect(garbled.problems["base"]?.isEmpty == false)
            let badVariable = try await client.api(
                .post, path, token: f.developer.1, json: ["ref": "main", "variables": [["key": "BAD-KEY", "value": "x"]]])
            #expect(badVariable.status == .badRequest)
            // None of the refusals left a pipeline behind.
            let list = try await client.api(.get, "projects/\(f.projectID)/pipelines", token: f.alice)
            #expect(list.array.isEmpty)
        }
    }

    @Test(
        "a Reporter cannot create pipelines (403); a Guest of a private project cannot read them (403); outsiders get 404", arguments: TestBackend.all
    )
    func permissions(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let f = try await fixture(server, client)
            let (_, outsider) = try await server.makeUser("outsider")
            let pipeline = try await client.api(.post, "projects/\(f.projectID)/pipeline", token: f.developer.1, json: ["ref": "main"])
            try #require(pipeline.status == .created)
            #expect(try await client.api(.post, "projects/\(f.projectID)/pipeline", token: f.reporter.1, json: ["ref": "main"]).status == .forbidden)
            #expect(try await client.api(.post, "projects/\(f.projectID)/pipeline", token: f.guest.1, json: ["ref": "main"]).status == .forbidden)
            #expect(try await client.api(.get, "projects/\(f.projectID)/pipelines", token: f.guest.1).status == .forbidden)
            #expect(try await client.api(.get, "projects/\(f.projectID)/pipelines/\(pipeline.id)", token: f.guest.1).status == .forbidden)
            #expect(try await client.api(.get, "projects/\(f.projectID)/pipelines/\(pipeline.id)/jobs", token: f.guest.1).status == .forbidden)
            #expect(try await client.api(.get, "projects/\(f.projectID)/jobs", token: f.guest.1).status == .forbidden)
            #expect(try await client.api(.get, "projects/\(f.projectID)/pipelines", token: f.reporter.1).status == .ok)
            #expect(try await client.api(.get, "projects/\(f.projectID)/pipelines", token: outsider).status == .notFound)
            #expect(try await client.api(.post, "projects/\(f.projectID)/pipeline", token: outsider, json: ["ref": "main"]).status == .notFound)
            #expect(try await client.api(.get, "projects/\(f.projectID)/pipelines").status == .notFound)

            let jobs = try await client.api(.get, "projects/\(f.projectID)/pipelines/\(pipeline.id)/jobs", token: f.reporter.1)
            let build = try #require(jobs.array.first { $0["name"] as? String == "build" })
            #expect(try await client.api(.post, "projects/\(f.projectID)/jobs/\(build.id)/cancel", token: f.reporter.1).status == .forbidden)
            let release = try #require(jobs.array.first { $0["name"] as? String == "release" })
            #expect(try await client.api(.post, "projects/\(f.projectID)/jobs/\(release.id)/play", token: f.reporter.1).status == .forbidden)
        }
    }

    @Test("the pipelines list filters by ref, sha, status and source, newest first", arguments: TestBackend.all)
    func listFilters(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let f = try await fixture(server, client, config: Self.oneJob)
            let featureSHA = try GitFixtures.commit([".gitlab-ci.yml": Self.oneJob, "x": "x"], to: f.repository, branch: "feature")
            let path = "projects/\(f.projectID)/pipeline"
            let first = try await client.api(.post, path, token: f.developer.1, json: ["ref": "main"])
            let second = try await client.api(.post, path, token: f.developer.1, json: ["ref": "feature"])
            let third = try await client.api(.post, path, token: f.developer.1, json: ["ref": "main"])
            let project = try #require(try await server.store.projects.find(id: f.projectID))
            let pushed = try await server.store.pipelines.create(
                NewPipeline(projectID: project.id, ref: "main", sha: f.sha, source: .push, userID: f.developer.0.id),
                configuration: .success(try CIConfigParser.parse(Self.oneJob)))
            // Cancel the third pipeline's only job, so its status differs.
            let thirdJobs = try await client.api(.get, "projects/\(f.projectID)/pipelines/\(third.id)/jobs", token: f.alice)
            let thirdJob = try #require(thirdJobs.array.first)
            try #require(try await client.api(.post, "projects/\(f.projectID)/jobs/\(thirdJob.id)/cancel", token: f.developer.1).status == .created)

            func ids(_ query: String) async throws -> [Int64] {
                let response = try await client.api(.get, "projects/\(f.projectID)/pipelines\(query)", token: f.reporter.1)
                try #require(response.status == .ok, "\(query): \(response.text)")
                return response.ids
            }
            #expect(try await ids("") == [pushed.id, third.id, second.id, first.id])
            #expect(try await ids("?ref=main") == [pushed.id, third.id, first.id])
            #expect(try await ids("?ref=feature") == [second.id])
            #expect(try await ids("?sha=\(featureSHA)") == [second.id])
            #expect(try await ids("?status=canceled") == [third.id])
            #expect(try await ids("?status=pending") == [pushed.id, second.id, first.id])
            #expect(try await ids("?source=push") == [pushed.id])
            #expect(try await ids("?source=api&ref=main") == [third.id, first.id])
            #expect(try await ids("?sort=asc") == [first.id, second.id, third.id, pushed.id])
            #expect(try await ids("?per_page=2&page=2") == [second.id, first.id])
            #expect(try await client.api(.get, "projects/\(f.projectID)/pipelines?status=bogus", token: f.alice).status == .badRequest)
            #expect(try await client.api(.get, "projects/\(f.projectID)/pipelines?source=bogus", token: f.alice).status == .badRequest)

            let listed = try await client.api(.get, "projects/\(f.projectID)/pipelines?per_page=1", token: f.alice).array.first
            for key in ["id", "sha", "ref", "status", "source", "web_url"] { #expect(listed?[key] != nil, "\(key)") }
        }
    }

    @Test("pipeline jobs filter by scope[], and single jobs are read within their project only", arguments: TestBackend.all)
    func jobsListing(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let f = try await fixture(server, client)
            let pipeline = try await client.api(.post, "projects/\(f.projectID)/pipeline", token: f.developer.1, json: ["ref": "main"])
            let pending = try await jobs(client, f, pipeline: pipeline.id, query: "?scope[]=pending")
            #expect(Set(pending.keys) == ["build"])
            let several = try await jobs(client, f, pipeline: pipeline.id, query: "?scope[]=pending&scope[]=manual")
            #expect(Set(several.keys) == ["build", "release"])
            // python-gitlab (requests) percent-encodes the brackets.
            let encoded = try await jobs(client, f, pipeline: pipeline.id, query: "?scope%5B%5D=created")
            #expect(Set(encoded.keys) == ["test"])
            let plain = try await jobs(client, f, pipeline: pipeline.id, query: "?scope=manual")
            #expect(Set(plain.keys) == ["release"])
            #expect(
                try await client.api(.get, "projects/\(f.projectID)/pipelines/\(pipeline.id)/jobs?scope[]=bogus", token: f.alice).status
                    == .badRequest)

            let build = try #require(try await jobs(client, f, pipeline: pipeline.id)["build"])
            let shown = try await client.api(.get, "projects/\(f.projectID)/jobs/\(build.id)", token: f.reporter.1)
            #expect(shown.status == .ok)
            #expect(shown.string("name") == "build")
            #expect(shown.string("status") == "pending")
            #expect(shown.string("ref") == "main")
            #expect((shown.object["commit"] as? [String: Any])?["id"] as? String == f.sha)
            #expect(shown.string("web_url") == "http://latchkey.test/alice/app/-/jobs/\(build.id)")
            let all = try await client.api(.get, "projects/\(f.projectID)/jobs", token: f.reporter.1)
            #expect(all.array.count == 3)
            #expect(all.ids == all.ids.sorted(by: >))

            let other = try await client.createProject(["name": "other"], token: f.alice)
            let elsewhere = try await client.api(.get, "projects/\(other.id)/jobs/\(build.id)", token: f.alice)
            #expect(elsewhere.status == .notFound)
            #expect(elsewhere.string("message") == "404 Job Not Found")
            #expect(try await client.api(.get, "projects/\(other.id)/pipelines/\(pipeline.id)", token: f.alice).status == .notFound)
        }
    }

    @Test("playing a manual job makes the player its user and queues it; non-manual jobs are unplayable", arguments: TestBackend.all)
    func playManual(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let f = try await fixture(server, client)
            let (other, otherToken) = try await server.makeUser("other")
            try await client.addMember("projects", f.projectID, userID: other.id, level: Level.developer, token: f.alice)
            let pipeline = try await client.api(.post, "projects/\(f.projectID)/pipeline", token: f.developer.1, json: ["ref": "main"])
            let byName = try await jobs(client, f, pipeline: pipeline.id)
            let release = try #require(byName["release"])
            #expect((release["user"] as? [String: Any])?["username"] as? String == "dev")

            let played = try await client.api(.post, "projects/\(f.projectID)/jobs/\(release.id)/play", token: otherToken)
            #expect(played.status == .ok)
            #expect(played.string("status") == "pending")
            #expect((played.object["user"] as? [String: Any])?["username"] as? String == "other")
            let stored = try #require(try await server.store.jobs.find(id: release.id))
            #expect(stored.userID == other.id)
            #expect(stored.status == .pending)

            let again = try await client.api(.post, "projects/\(f.projectID)/jobs/\(release.id)/play", token: otherToken)
            #expect(again.status == .badRequest)
            let build = try #require(byName["build"])
            #expect(try await client.api(.post, "projects/\(f.projectID)/jobs/\(build.id)/play", token: otherToken).status == .badRequest)
        }
    }

    @Test("cancelling a pending job cancels it and the pipeline; retrying makes a new pending job", arguments: TestBackend.all)
    func cancelAndRetry(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let f = try await fixture(server, client, config: Self.oneJob)
            let (retrier, retrierToken) = try await server.makeUser("retrier")
            try await client.addMember("projects", f.projectID, userID: retrier.id, level: Level.developer, token: f.alice)
            let pipeline = try await client.api(.post, "projects/\(f.projectID)/pipeline", token: f.developer.1, json: ["ref": "main"])
            let job = try #require(try await jobs(client, f, pipeline: pipeline.id)["only"])

            let canceled = try await client.api(.post, "projects/\(f.projectID)/jobs/\(job.id)/cancel", token: f.developer.1)
            #expect(canceled.status == .created)
            #expect(canceled.string("status") == "canceled")
            let afterCancel = try await client.api(.get, "projects/\(f.projectID)/pipelines/\(pipeline.id)", token: f.alice)
            #expect(afterCancel.string("status") == "canceled")
            #expect(afterCancel.object["finished_at"] is String)

            let retried = try await client.api(.post, "projects/\(f.projectID)/jobs/\(job.id)/retry", token: retrierToken)
            #expect(retried.status == .created)
            #expect(retried.id != job.id)
            #expect(retried.string("status") == "pending")
            #expect(retried.string("name") == "only")
            #expect((retried.object["user"] as? [String: Any])?["username"] as? String == "retrier")
            let afterRetry = try await client.api(.get, "projects/\(f.projectID)/pipelines/\(pipeline.id)", token: f.alice)
            #expect(afterRetry.string("status") == "pending")
            let old = try await client.api(.get, "projects/\(f.projectID)/jobs/\(job.id)", token: f.alice)
            #expect(old.object["retried"] as? Bool == true)
            #expect(Set(try await jobs(client, f, pipeline: pipeline.id).keys) == ["only"])
            let withRetried = try await client.api(.get, "projects/\(f.projectID)/pipelines/\(pipeline.id)/jobs?include_retried=true", token: f.alice)
            #expect(withRetried.array.count == 2)

            // A pending job cannot be retried; a retried one not twice.
            #expect(try await client.api(.post, "projects/\(f.projectID)/jobs/\(retried.id)/retry", token: retrierToken).status == .forbidden)
            #expect(try await client.api(.post, "projects/\(f.projectID)/jobs/\(job.id)/retry", token: retrierToken).status == .forbidden)
        }
    }

    @Test("cancelling a pipeline stops every job that may run and keeps manual ones; retrying it reruns what failed or was canceled", arguments: TestBackend.all)
    func cancelAndRetryPipeline(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let f = try await fixture(server, client)
            let pipeline = try await client.api(.post, "projects/\(f.projectID)/pipeline", token: f.developer.1, json: ["ref": "main"])
            let path = "projects/\(f.projectID)/pipelines/\(pipeline.id)"
            #expect(try await client.api(.post, path + "/cancel", token: f.reporter.1).status == .forbidden)
            #expect(try await client.api(.post, "projects/\(f.projectID)/pipelines/999999/cancel", token: f.alice).status == .notFound)

            let canceled = try await client.api(.post, path + "/cancel", token: f.developer.1)
            #expect(canceled.status == .ok, "\(canceled.text)")
            #expect(canceled.string("status") == "canceled")
            var byName = try await jobs(client, f, pipeline: pipeline.id)
            #expect(byName["build"]?["status"] as? String == "canceled")
            #expect(byName["test"]?["status"] as? String == "canceled", "a job waiting for its stage is canceled too")
            #expect(byName["release"]?["status"] as? String == "manual", "a manual job stays playable, as in GitLab")
            #expect(try await client.api(.post, path + "/cancel", token: f.developer.1).status == .ok, "nothing left to cancel is no error")
            let release = try #require(byName["release"]).id
            let manualCancel = try await client.api(.post, "projects/\(f.projectID)/jobs/\(release)/cancel", token: f.developer.1)
            #expect(manualCancel.string("status") == "manual", "a manual job is not cancelable in GitLab either")

            #expect(try await client.api(.post, path + "/retry", token: f.reporter.1).status == .forbidden)
            let retried = try await client.api(.post, path + "/retry", token: f.developer.1)
            #expect(retried.status == .created, "\(retried.text)")
            #expect(retried.string("status") == "pending")
            byName = try await jobs(client, f, pipeline: pipeline.id)
            #expect(byName["build"]?["status"] as? String == "pending")
            #expect(byName["test"]?["status"] as? String == "created", "a later stage waits again for the rerun")
            #expect(byName["release"]?["status"] as? String == "manual")
            #expect((byName["build"]?["user"] as? [String: Any])?["username"] as? String == "dev")
            let all = try await client.api(.get, path + "/jobs?include_retried=true", token: f.alice)
            #expect(all.array.count == 5, "build and test kept their canceled attempts")
        }
    }
}
