import Foundation
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import Testing

@testable import LatchkeyServer

@Suite("Delayed jobs (when: delayed)")
struct DelayedJobsTests {
    static let config = """
        stages: [build, deploy]
        build:
          stage: build
          script: echo build
        canary:
          stage: deploy
          script: echo canary
          when: delayed
          start_in: 30 minutes
        production:
          stage: deploy
          script: echo production
          rules:
            - if: $CI_COMMIT_BRANCH == "main"
              when: delayed
              start_in: 2 hours
        """

    private func jobs(_ client: some TestClientProtocol, project: Int64, pipeline: Int64, token: String) async throws -> [String: [String: Any]] {
        let response = try await client.api(.get, "projects/\(project)/pipelines/\(pipeline)/jobs", token: token)
        try #require(response.status == .ok, "\(response.text)")
        return Dictionary(response.array.map { ($0["name"] as? String ?? "", $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Registers a runner; `finishNext` claims and ends jobs with it as the official runner would.
    private func runner(_ server: TestServer, _ client: some TestClientProtocol) async throws -> String {
        let runner = try await client.api(.post, "runners", json: ["token": try await server.environment.registrationToken(), "description": "test runner"])
        return try #require(runner.object["token"] as? String)
    }

    /// Claims the next pending job and reports `state` for it; returns its id.
    private func finishNext(_ client: some TestClientProtocol, runner: String, state: String) async throws -> Int64 {
        let claimed = try await client.api(.post, "jobs/request", json: ["token": runner])
        try #require(claimed.status == .created, "\(claimed.status)")
        let token = try #require(claimed.object["token"] as? String)
        let ended = try await client.api(.put, "jobs/\(claimed.id)", json: ["token": token, "state": state, "exit_code": state == "success" ? 0 : 1])
        try #require(ended.status == .ok, "\(ended.text)")
        return claimed.id
    }

    @Test("a delayed job is scheduled once its stage may run, starts start_in later, and can be played early or canceled", arguments: TestBackend.all)
    func lifecycle(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let reporter = try await server.makeUser("reporter")
            let project = try await client.createProject(["name": "app"], token: alice)
            try await client.addMember("projects", project.id, userID: reporter.0.id, level: Level.reporter, token: alice)
            _ = try GitFixtures.commit([".gitlab-ci.yml": Self.config], to: server.environment.repositories.path(projectID: project.id))
            let created = try await client.api(.post, "projects/\(project.id)/pipeline", token: alice, json: ["ref": "main"])
            try #require(created.status == .created, "\(created.text)")

            var byName = try await jobs(client, project: project.id, pipeline: created.id, token: alice)
            #expect(byName["build"]?["status"] as? String == "pending")
            #expect(byName["canary"]?["status"] as? String == "created", "a delayed job waits for its stage like any other")
            let runnerToken = try await runner(server, client)
            let before = Date()
            #expect(try await finishNext(client, runner: runnerToken, state: "success") == byName["build"]?.id)

            byName = try await jobs(client, project: project.id, pipeline: created.id, token: alice)
            #expect(byName["canary"]?["status"] as? String == "scheduled")
            #expect(byName["production"]?["status"] as? String == "scheduled", "a rule's when: delayed and start_in apply")
            let pipeline = try await client.api(.get, "projects/\(project.id)/pipelines/\(created.id)", token: alice)
            #expect(pipeline.string("status") == "scheduled")
            let canaryID = try #require(byName["canary"]).id
            let canary = try #require(try await server.store.jobs.find(id: canaryID))
            let scheduledAt = try #require(canary.scheduledAt)
            #expect(abs(scheduledAt.timeIntervalSince(before) - 1800) < 60)

            let starter = DelayedJobStarter(environment: server.environment, queue: JobQueue())
            await starter.startDue(now: Date())
            #expect(try await server.store.jobs.find(id: canary.id)?.status == .scheduled, "nothing starts before its time")
            await starter.startDue(now: Date().addingTimeInterval(1801))
            byName = try await jobs(client, project: project.id, pipeline: created.id, token: alice)
            #expect(byName["canary"]?["status"] as? String == "pending")
            #expect(byName["production"]?["status"] as? String == "scheduled")
            #expect(try await client.api(.get, "projects/\(project.id)/pipelines/\(created.id)", token: alice).string("status") == "running")

            let production = try #require(byName["production"]).id
            #expect(try await client.api(.post, "projects/\(project.id)/jobs/\(production)/play", token: reporter.1).status == .forbidden)
            let played = try await client.api(.post, "projects/\(project.id)/jobs/\(production)/play", token: alice)
            #expect(played.status == .ok, "\(played.text)")
            #expect(played.string("status") == "pending", "playing a scheduled job starts it now, as GitLab's Run now")
            #expect(try await client.api(.post, "projects/\(project.id)/jobs/\(production)/play", token: alice).status == .badRequest)
            await starter.startDue(now: Date().addingTimeInterval(3 * 3600))
            #expect(try await server.store.jobs.find(id: production)?.status == .pending, "a played job is not queued twice")

            // A second pipeline: a scheduled job can be canceled, and the starter then leaves it alone.
            let second = try await client.api(.post, "projects/\(project.id)/pipeline", token: alice, json: ["ref": "main"])
            let secondJobs = try await jobs(client, project: project.id, pipeline: second.id, token: alice)
            // The first pipeline's two played jobs are older in the queue.
            _ = try await finishNext(client, runner: runnerToken, state: "success")
            _ = try await finishNext(client, runner: runnerToken, state: "success")
            #expect(try await finishNext(client, runner: runnerToken, state: "success") == secondJobs["build"]?.id)
            let secondCanary = try #require(secondJobs["canary"]).id
            let canceled = try await client.api(.post, "projects/\(project.id)/jobs/\(secondCanary)/cancel", token: alice)
            #expect(canceled.string("status") == "canceled")
            await starter.startDue(now: Date().addingTimeInterval(3 * 3600))
            #expect(try await server.store.jobs.find(id: secondCanary)?.status == .canceled)
            // Retried, it runs at once, as GitLab enqueues a retried actionable job immediately.
            let retried = try await client.api(.post, "projects/\(project.id)/jobs/\(secondCanary)/retry", token: alice)
            #expect(retried.status == .created)
            #expect(retried.string("status") == "pending")
        }
    }

    @Test("a delayed job after a failure is skipped, as an on_success job is")
    func skippedAfterFailure() async throws {
        try await withTestServer { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let project = try await client.createProject(["name": "app"], token: alice)
            _ = try GitFixtures.commit([".gitlab-ci.yml": Self.config], to: server.environment.repositories.path(projectID: project.id))
            let created = try await client.api(.post, "projects/\(project.id)/pipeline", token: alice, json: ["ref": "main"])
            let build = try #require(try await jobs(client, project: project.id, pipeline: created.id, token: alice)["build"]).id
            #expect(try await finishNext(client, runner: try await runner(server, client), state: "failed") == build)
            let byName = try await jobs(client, project: project.id, pipeline: created.id, token: alice)
            #expect(byName["canary"]?["status"] as? String == "skipped")
            #expect(try await client.api(.get, "projects/\(project.id)/pipelines/\(created.id)", token: alice).string("status") == "failed")
        }
    }
}
