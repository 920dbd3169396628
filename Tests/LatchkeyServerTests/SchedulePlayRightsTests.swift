import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import Testing

@Suite("Schedule play runs as the player")
struct SchedulePlayRightsTests {
    @Test("a Developer playing a Maintainer's schedule gets a job with the Developer's rights, not the owner's", arguments: TestBackend.all)
    func playerRights(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (dev, devToken) = try await server.makeUser("dev")
            let (maya, mayaToken) = try await server.makeUser("maya")
            let app = try await client.createProject(["name": "app"], token: server.rootToken).id
            let secret = try await client.createProject(["name": "secret"], token: server.rootToken).id
            try await client.addMember("projects", app, userID: dev.id, level: Level.developer, token: server.rootToken)
            try await client.addMember("projects", app, userID: maya.id, level: Level.maintainer, token: server.rootToken)
            try await client.addMember("projects", secret, userID: maya.id, level: Level.reporter, token: server.rootToken)
            // The secret project lets app's jobs in, so only the job's user decides.
            let allowed = try await client.api(.post, "projects/\(secret)/job_token_scope/allowlist", token: server.rootToken, json: ["target_project_id": app])
            try #require(allowed.status == .created)
            try GitFixtures.commit([".gitlab-ci.yml": "build:\n  script: echo build\n"], to: server.environment.repositories.path(projectID: app))
            let schedule = try await client.api(
                .post, "projects/\(app)/pipeline_schedules", token: mayaToken, json: ["description": "nightly", "ref": "main", "cron": "0 4 * * *"])
            try #require(schedule.status == .created)

            let played = try await client.api(.post, "projects/\(app)/pipeline_schedules/\(schedule.id)/play", token: devToken)
            #expect(played.status == .created)
            let registration = try await server.environment.registrationToken()
            let runnerToken = try #require(try await client.api(.post, "runners", json: ["token": registration]).object["token"] as? String)
            let claimed = try await client.api(.post, "jobs/request", json: ["token": runnerToken])
            try #require(claimed.status == .created)
            let variables = (claimed.object["variables"] as? [[String: Any]] ?? []).reduce(into: [String: String]()) {
                $0[$1["key"] as? String ?? ""] = $1["value"] as? String
            }
            #expect(variables["GITLAB_USER_LOGIN"] == "dev")
            let headers: HTTPFields = [HTTPField.Name("JOB-TOKEN")!: try #require(claimed.object["token"] as? String)]
            let reach = try await client.api(.get, "projects/\(secret)/repository/branches", headers: headers)
            #expect(reach.status == .notFound, "the job must not read, as the schedule's owner, what the player cannot see")
        }
    }

    @Test("take_ownership needs a Maintainer and makes the taker the owner the cron runs as", arguments: TestBackend.all)
    func takeOwnership(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (dev, devToken) = try await server.makeUser("dev")
            let (maya, mayaToken) = try await server.makeUser("maya")
            let app = try await client.createProject(["name": "app"], token: server.rootToken).id
            try await client.addMember("projects", app, userID: dev.id, level: Level.developer, token: server.rootToken)
            try await client.addMember("projects", app, userID: maya.id, level: Level.maintainer, token: server.rootToken)
            let schedule = try await client.api(
                .post, "projects/\(app)/pipeline_schedules", token: devToken, json: ["description": "nightly", "ref": "main", "cron": "0 4 * * *"])
            try #require(schedule.status == .created)
            let path = "projects/\(app)/pipeline_schedules/\(schedule.id)/take_ownership"
            let (_, otherDevToken) = try await server.makeUser("other")
            #expect(try await client.api(.post, path, token: otherDevToken).status == .notFound)
            let taken = try await client.api(.post, path, token: mayaToken)
            #expect(taken.status == .created)
            #expect((taken.object["owner"] as? [String: Any])?["username"] as? String == "maya")
            let stored = try #require(try await server.store.schedules.find(id: schedule.id, projectID: app))
            #expect(stored.ownerID == maya.id)
        }
    }
}
