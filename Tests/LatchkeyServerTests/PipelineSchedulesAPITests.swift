import Foundation
import HummingbirdTesting
import LatchkeyCore
import LatchkeyStore
import LatchkeyTestSupport
import Testing

@testable import LatchkeyServer

@Suite("Pipeline schedules API")
struct PipelineSchedulesAPITests {
    /// A private project with a CI file on main, a Developer (`dev`), a Maintainer (`maya`) and a Reporter.
    struct Fixture {
        var projectID: Int64
        var alice: String
        var developer: (User, String)
        var maintainer: (User, String)
        var reporter: (User, String)
        var path: String { "projects/\(projectID)/pipeline_schedules" }
    }

    private func fixture(_ server: TestServer, _ client: some TestClientProtocol) async throws -> Fixture {
        let (_, alice) = try await server.makeUser("alice")
        let developer = try await server.makeUser("dev")
        let maintainer = try await server.makeUser("maya")
        let reporter = try await server.makeUser("reporter")
        let project = try await client.createProject(["name": "app"], token: alice)
        try await client.addMember("projects", project.id, userID: developer.0.id, level: Level.developer, token: alice)
        try await client.addMember("projects", project.id, userID: maintainer.0.id, level: Level.maintainer, token: alice)
        try await client.addMember("projects", project.id, userID: reporter.0.id, level: Level.reporter, token: alice)
        try GitFixtures.commit(
            [".gitlab-ci.yml": "nightly:\n  script: echo night\n"], to: server.environment.repositories.path(projectID: project.id))
        return Fixture(projectID: project.id, alice: alice, developer: developer, maintainer: maintainer, reporter: reporter)
    }

    private func createSchedule(_ client: some TestClientProtocol, _ f: Fixture, cron: String = "0 4 * * *") async throws -> APIResponse {
        let response = try await client.api(
            .post, f.path, token: f.developer.1, json: ["description": "nightly", "ref": "main", "cron": cron, "cron_timezone": "Europe/Berlin"])
        try #require(response.status == .created, "\(response.text)")
        return response
    }

    @Test("schedules are created, listed, read, changed by their owner and deleted", arguments: TestBackend.all)
    func crud(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let f = try await fixture(server, client)
            let created = try await createSchedule(client, f)
            #expect(created.string("description") == "nightly")
            #expect(created.string("ref") == "main")
            #expect(created.string("cron") == "0 4 * * *")
            #expect(created.string("cron_timezone") == "Europe/Berlin")
            #expect(created.object["active"] as? Bool == true)
            #expect(created.string("next_run_at") != nil)
            #expect((created.object["owner"] as? [String: Any])?["username"] as? String == "dev")

            let list = try await client.api(.get, f.path, token: f.reporter.1)
            #expect(list.status == .ok)
            #expect(list.ids == [created.id])
            #expect(try await client.api(.get, "\(f.path)?scope=active", token: f.reporter.1).ids == [created.id])
            #expect(try await client.api(.get, "\(f.path)?scope=inactive", token: f.reporter.1).ids == [])
            let shown = try await client.api(.get, "\(f.path)/\(created.id)", token: f.reporter.1)
            #expect(shown.status == .ok)
            #expect(shown.object["last_pipeline"] is NSNull || shown.object["last_pipeline"] == nil)

            let updated = try await client.api(
                .put, "\(f.path)/\(created.id)", token: f.developer.1, json: ["cron": "30 5 * * 1", "active": false, "description": "weekly"])
            #expect(updated.status == .ok)
            #expect(updated.string("cron") == "30 5 * * 1")
            #expect(updated.string("description") == "weekly")
            #expect(updated.object["active"] as? Bool == false)
            #expect(updated.string("cron_timezone") == "Europe/Berlin")
            #expect(try await client.api(.get, "\(f.path)?scope=inactive", token: f.reporter.1).ids == [created.id])

            #expect(try await client.api(.delete, "\(f.path)/\(created.id)", token: f.reporter.1).status == .forbidden)
            let deleted = try await client.api(.delete, "\(f.path)/\(created.id)", token: f.developer.1)
            #expect(deleted.status.code < 300)
            #expect(try await client.api(.get, "\(f.path)/\(created.id)", token: f.alice).status == .notFound)
            #expect(try await client.api(.get, "\(f.path)/999999", token: f.alice).status == .notFound)
        }
    }

    @Test("invalid cron expressions and time zones answer 400 with GitLab's bodies; missing fields are named", arguments: TestBackend.all)
    func refusals(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let f = try await fixture(server, client)
            let badCron = try await client.api(.post, f.path, token: f.developer.1, json: ["description": "x", "ref": "main", "cron": "61 * * * *"])
            #expect(badCron.status == .badRequest)
            #expect(badCron.problems == ["cron": [" is invalid syntax"]])
            let words = try await client.api(.post, f.path, token: f.developer.1, json: ["description": "x", "ref": "main", "cron": "every day"])
            #expect(words.problems == ["cron": [" is invalid syntax"]])
            let badZone = try await client.api(
                .post, f.path, token: f.developer.1, json: ["description": "x", "ref": "main", "cron": "0 1 * * *", "cron_timezone": "Mars/Olympus"])
            #expect(badZone.status == .badRequest)
            #expect(badZone.problems == ["cron_timezone": [" is invalid syntax"]])
            let missing = try await client.api(.post, f.path, token: f.developer.1, json: ["description": "x"])
            #expect(missing.status == .badRequest)
            #expect(missing.string("error") == "ref is missing, cron is missing")
            #expect(
                try await client.api(.post, f.path, token: f.reporter.1, json: ["description": "x", "ref": "main", "cron": "0 1 * * *"]).status
                    == .forbidden)

            let created = try await createSchedule(client, f)
            let badUpdate = try await client.api(.put, "\(f.path)/\(created.id)", token: f.developer.1, json: ["cron": "* * *"])
            #expect(badUpdate.status == .badRequest)
            #expect(badUpdate.problems == ["cron": [" is invalid syntax"]])
            let reread = try await client.api(.get, "\(f.path)/\(created.id)", token: f.developer.1)
            #expect(reread.string("cron") == "0 4 * * *")
        }
    }

    @Test("only the owner may change a schedule; a Maintainer takes ownership first", arguments: TestBackend.all)
    func ownership(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let f = try await fixture(server, client)
            let created = try await createSchedule(client, f)
            let path = "\(f.path)/\(created.id)"
            #expect(try await client.api(.put, path, token: f.maintainer.1, json: ["description": "mine"]).status == .forbidden)
            #expect(try await client.api(.put, path, token: f.alice, json: ["description": "mine"]).status == .forbidden)
            #expect(try await client.api(.post, "\(path)/take_ownership", token: f.reporter.1).status == .forbidden)

            let taken = try await client.api(.post, "\(path)/take_ownership", token: f.maintainer.1)
            #expect(taken.status.code < 300)
            #expect((taken.object["owner"] as? [String: Any])?["username"] as? String == "maya")
            #expect(try await client.api(.put, path, token: f.maintainer.1, json: ["description": "mine"]).status == .ok)
            #expect(try await client.api(.put, path, token: f.developer.1, json: ["description": "back"]).status == .forbidden)
            let stored = try #require(try await server.store.schedules.find(id: created.id, projectID: f.projectID))
            #expect(stored.ownerID == f.maintainer.0.id)
            #expect(stored.description == "mine")
        }
    }

    @Test("playing a schedule creates a pipeline with source schedule whose user is the player, not the owner", arguments: TestBackend.all)
    func play(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let f = try await fixture(server, client)
            let created = try await createSchedule(client, f)
            #expect(try await client.api(.post, "\(f.path)/\(created.id)/play", token: f.reporter.1).status == .forbidden)
            let played = try await client.api(.post, "\(f.path)/\(created.id)/play", token: f.maintainer.1)
            #expect(played.status == .created)
            let pipelines = try await client.api(.get, "projects/\(f.projectID)/pipelines?source=schedule", token: f.alice)
            #expect(pipelines.array.count == 1)
            let pipeline = try #require(pipelines.array.first)
            #expect(pipeline["ref"] as? String == "main")
            let detail = try await client.api(.get, "projects/\(f.projectID)/pipelines/\(pipeline.id)", token: f.alice)
            // GitLab's PlayService.new(project, current_user): the player's pipeline, with the player's rights (issue 11 #2).
            #expect((detail.object["user"] as? [String: Any])?["username"] as? String == "maya")
            #expect(detail.string("status") == "pending")
            let jobs = try await client.api(.get, "projects/\(f.projectID)/pipelines/\(pipeline.id)/jobs", token: f.alice)
            #expect((jobs.array.first?["user"] as? [String: Any])?["username"] as? String == "maya")
            let shown = try await client.api(.get, "\(f.path)/\(created.id)", token: f.alice)
            #expect(((shown.object["last_pipeline"] as? [String: Any])?["id"] as? NSNumber)?.int64Value == pipeline.id)
        }
    }

    @Test("the scheduler creates each due pipeline once, even when asked twice, as the owner", arguments: TestBackend.all)
    func runDueOnce(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let f = try await fixture(server, client)
            let created = try await createSchedule(client, f)
            var schedule = try #require(try await server.store.schedules.find(id: created.id, projectID: f.projectID))
            let due = Date(milliseconds: Date().milliseconds - 60_000)
            schedule.nextRunAt = due
            schedule = try await server.store.schedules.save(schedule)
            let inactive = try await server.store.schedules.create(
                projectID: f.projectID, description: "off", ref: "main", cron: "* * * * *", cronTimezone: "UTC", active: false,
                ownerID: f.developer.0.id, nextRunAt: due)

            let runner = ScheduleRunner(
                environment: server.environment, creator: PipelineCreator(environment: server.environment, queue: JobQueue()),
                interval: .seconds(3600))
            let now = Date()
            await runner.runDue(now: now)
            await runner.runDue(now: now)
            async let concurrent: Void = runner.runDue(now: now.addingTimeInterval(1))
            await runner.runDue(now: now.addingTimeInterval(1))
            _ = await concurrent

            let pipelines = try await server.store.pipelines.list(
                projectID: f.projectID, filter: PipelineFilter(source: .schedule), page: PageRequest())
            #expect(pipelines.items.count == 1)
            #expect(pipelines.items.first?.userID == f.developer.0.id)
            #expect(pipelines.items.first?.scheduleID == schedule.id)
            let after = try #require(try await server.store.schedules.find(id: schedule.id, projectID: f.projectID))
            let next = try #require(after.nextRunAt)
            #expect(next > now)
            let untouched = try #require(try await server.store.schedules.find(id: inactive.id, projectID: f.projectID))
            #expect(untouched.nextRunAt == due)
        }
    }
}
