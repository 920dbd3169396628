import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import Testing

@Suite("Branches and protected branches API")
struct ProtectedBranchesAPITests {
    @Test("a new project's default branch is protected with Developers pushing; Maintainers manage rules with GitLab's answers", arguments: TestBackend.all)
    func rules(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let project = try await client.createProject(["name": "app"], token: alice)
            let base = "projects/\(project.id)/protected_branches"

            let list = try await client.api(.get, base, token: alice)
            #expect(list.status == .ok)
            #expect(list.header("X-Total") == "1")
            let main = try #require(list.array.first)
            #expect(main["name"] as? String == "main")
            #expect((main["push_access_levels"] as? [[String: Any]])?.first?["access_level"] as? Int == 30)
            #expect((main["merge_access_levels"] as? [[String: Any]])?.first?["access_level_description"] as? String == "Maintainers")
            #expect(main["allow_force_push"] as? Bool == false)

            let created = try await client.api(.post, base, token: alice, json: ["name": "release/*", "push_access_level": 40, "merge_access_level": 30])
            #expect(created.status == .created, "\(created.text)")
            #expect(created.string("name") == "release/*")
            let duplicate = try await client.api(.post, base, token: alice, json: ["name": "release/*"])
            #expect(duplicate.status == .conflict)
            #expect(duplicate.string("message") == "Protected branch 'release/*' already exists")
            let badLevel = try await client.api(.post, base, token: alice, json: ["name": "x", "push_access_level": 20])
            #expect(badLevel.status == .badRequest)
            #expect(badLevel.string("error") == "push_access_level does not have a valid value")
            let missing = try await client.api(.post, base, token: alice, json: [:])
            #expect(missing.status == .badRequest)
            #expect(missing.string("error") == "name is missing")
            for name in ["a b", "-x", "a..b", "x?y", "a[b"] {
                let invalid = try await client.api(.post, base, token: alice, json: ["name": name])
                #expect(invalid.status == .badRequest, "\(name): \(invalid.status)")
            }
            let premium = try await client.api(.post, base, token: alice, json: ["name": "y", "allowed_to_push": [["user_id": 1]]])
            #expect(premium.status == .badRequest)

            let shown = try await client.api(.get, "\(base)/release%2F*", token: alice)
            #expect(shown.status == .ok)
            let patched = try await client.api(.patch, "\(base)/release%2F*", token: alice, json: ["allow_force_push": true])
            #expect(patched.status == .ok)
            #expect(patched.object["allow_force_push"] as? Bool == true)
            let unknown = try await client.api(.get, "\(base)/nope", token: alice)
            #expect(unknown.status == .notFound)
            #expect(unknown.string("message") == "404 Not found")
            #expect(try await client.api(.delete, "\(base)/release%2F*", token: alice).status == .noContent)
            #expect(try await client.api(.get, "\(base)/release%2F*", token: alice).status == .notFound)
        }
    }

    @Test("authenticate, then find, then authorize: 401 anonymous, 404 for outsiders, 403 below Maintainer; a job token is no credential here")
    func refusals() async throws {
        try await withTestServer { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let (developer, developerToken) = try await server.makeUser("dev")
            let (_, outsider) = try await server.makeUser("outsider")
            let project = try await client.createProject(["name": "app"], token: alice)
            try await client.addMember("projects", project.id, userID: developer.id, level: Level.developer, token: alice)
            try GitFixtures.commit(["README.md": "hi\n"], to: server.environment.repositories.path(projectID: project.id))
            let routes: [(HTTPRequest.Method, String, [String: any Sendable]?)] = [
                (.get, "projects/\(project.id)/protected_branches", nil), (.post, "projects/\(project.id)/protected_branches", ["name": "x"]),
                (.get, "projects/\(project.id)/protected_branches/main", nil), (.patch, "projects/\(project.id)/protected_branches/main", [:]),
                (.delete, "projects/\(project.id)/protected_branches/main", nil),
                (.post, "projects/\(project.id)/repository/branches", ["branch": "b", "ref": "main"]),
                (.delete, "projects/\(project.id)/repository/branches/main", nil),
            ]
            for (method, path, json) in routes {
                let anonymous = try await client.api(method, path, json: json)
                #expect(anonymous.status == .unauthorized, "\(method) \(path) anonymous: \(anonymous.status)")
                let hidden = try await client.api(method, path, token: outsider, json: json)
                #expect(hidden.status == .notFound, "\(method) \(path) outsider: \(hidden.status)")
            }
            for (method, path, json) in routes where path.contains("protected_branches") {
                let below = try await client.api(method, path, token: developerToken, json: json)
                #expect(below.status == .forbidden, "\(method) \(path) developer: \(below.status)")
            }
            let job = try await client.runningJob(server, projectID: project.id, userToken: alice)
            for (method, path, json) in routes {
                let headers: HTTPFields = [HTTPField.Name("JOB-TOKEN")!: job.token]
                let withJobToken = try await client.api(method, path, json: json, headers: headers)
                #expect(withJobToken.status == .unauthorized, "\(method) \(path) job token: \(withJobToken.status)")
            }
        }
    }

    @Test("branches are created from a ref and deleted, with GitLab's refusals and the protected rules applied", arguments: TestBackend.all)
    func branches(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let (developer, developerToken) = try await server.makeUser("dev")
            let (reporter, reporterToken) = try await server.makeUser("rep")
            let project = try await client.createProject(["name": "app"], token: alice)
            try await client.addMember("projects", project.id, userID: developer.id, level: Level.developer, token: alice)
            try await client.addMember("projects", project.id, userID: reporter.id, level: Level.reporter, token: alice)
            let sha = try GitFixtures.commit(["README.md": "hi\n"], to: server.environment.repositories.path(projectID: project.id))
            let base = "projects/\(project.id)/repository/branches"

            let created = try await client.api(.post, base, token: developerToken, json: ["branch": "feature/x", "ref": "main"])
            #expect(created.status == .created, "\(created.text)")
            #expect(created.string("name") == "feature/x")
            #expect((created.object["commit"] as? [String: Any])?["id"] as? String == sha)
            #expect(created.object["protected"] as? Bool == false)
            #expect(created.object["can_push"] as? Bool == true)
            let again = try await client.api(.post, base, token: developerToken, json: ["branch": "feature/x", "ref": "main"])
            #expect(again.status == .badRequest)
            #expect(again.string("message") == "Branch already exists")
            let badRef = try await client.api(.post, base, token: developerToken, json: ["branch": "other", "ref": "nope"])
            #expect(badRef.string("message") == "Invalid reference name: nope")
            for name in ["a..b", "-rf", "x y", "x~1", "a:b", "HEAD", "refs/heads/x", "x.lock", "a*b"] {
                let invalid = try await client.api(.post, base, token: developerToken, json: ["branch": name, "ref": "main"])
                #expect(invalid.status == .badRequest, "\(name): \(invalid.status)")
                #expect(invalid.string("message") == "Branch name is invalid", "\(name): \(invalid.text)")
            }
            #expect(try await client.api(.post, base, token: developerToken, json: ["ref": "main"]).string("error") == "branch is missing")
            let byReporter = try await client.api(.post, base, token: reporterToken, json: ["branch": "r", "ref": "main"])
            #expect(byReporter.status == .forbidden)

            // A rule Developers can neither push nor merge under refuses them the branch; a Maintainer makes it.
            _ = try await client.api(.post, "projects/\(project.id)/protected_branches", token: alice, json: ["name": "release/*"])
            let protectedByDeveloper = try await client.api(.post, base, token: developerToken, json: ["branch": "release/1", "ref": "main"])
            #expect(protectedByDeveloper.status == .badRequest)
            #expect(protectedByDeveloper.string("message") == "You are not allowed to create protected branches on this project.")
            let protectedBranch = try await client.api(.post, base, token: alice, json: ["branch": "release/1", "ref": "main"])
            #expect(protectedBranch.status == .created)
            #expect(protectedBranch.object["protected"] as? Bool == true)
            let listed = try await client.api(.get, "\(base)/release%2F1", token: developerToken)
            #expect(listed.object["can_push"] as? Bool == false)
            #expect(listed.object["developers_can_push"] as? Bool == false)
            let mainBranch = try await client.api(.get, "\(base)/main", token: developerToken)
            #expect(mainBranch.object["protected"] as? Bool == true)
            #expect(mainBranch.object["developers_can_push"] as? Bool == true)

            let deleteProtected = try await client.api(.delete, "\(base)/release%2F1", token: developerToken)
            #expect(deleteProtected.status == .badRequest)
            #expect(deleteProtected.string("message")?.hasPrefix("You are not allowed to delete protected branches") == true)
            #expect(try await client.api(.delete, "\(base)/release%2F1", token: alice).status == .noContent)
            let deleteDefault = try await client.api(.delete, "\(base)/main", token: alice)
            #expect(deleteDefault.status == .badRequest)
            #expect(deleteDefault.string("message") == "The default branch of a project cannot be deleted.")
            #expect(try await client.api(.delete, "\(base)/feature%2Fx", token: developerToken).status == .noContent)
            let gone = try await client.api(.delete, "\(base)/feature%2Fx", token: developerToken)
            #expect(gone.status == .notFound)
            #expect(gone.string("message") == "404 Branch Not Found")
            #expect(await server.environment.repositories.resolve(projectID: project.id, ref: "refs/heads/feature/x") == nil)
        }
    }

    @Test("protected variables reach jobs on protected branches only, and CI_COMMIT_REF_PROTECTED says which", arguments: TestBackend.all)
    func protectedVariables(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let project = try await client.createProject(["name": "app"], token: alice)
            let repository = server.environment.repositories.path(projectID: project.id)
            let ci = "build:\n  script: echo build\n"
            try GitFixtures.commit([".gitlab-ci.yml": ci], to: repository)
            try GitFixtures.commit([".gitlab-ci.yml": ci], to: repository, branch: "release/1")
            try GitFixtures.commit([".gitlab-ci.yml": ci], to: repository, branch: "feature")
            _ = try await client.api(.post, "projects/\(project.id)/variables", token: alice, json: ["key": "DEPLOY_KEY", "value": "s3cr3t-value", "protected": true])
            _ = try await client.api(.post, "projects/\(project.id)/protected_branches", token: alice, json: ["name": "release/*"])
            let registration = try await server.environment.registrationToken()
            let runnerToken = try #require(try await client.api(.post, "runners", json: ["token": registration]).object["token"] as? String)
            for (ref, expected) in [("release/1", true), ("feature", false), ("main", true)] {
                let pipeline = try await client.api(.post, "projects/\(project.id)/pipeline", token: alice, json: ["ref": ref])
                #expect(pipeline.status == .created, "\(ref): \(pipeline.text)")
                let claimed = try await client.api(.post, "jobs/request", json: ["token": runnerToken])
                let variables = (claimed.object["variables"] as? [[String: Any]] ?? []).reduce(into: [String: String]()) {
                    $0[$1["key"] as? String ?? ""] = $1["value"] as? String
                }
                #expect(variables["CI_COMMIT_REF_PROTECTED"] == (expected ? "true" : "false"), "\(ref)")
                #expect((variables["DEPLOY_KEY"] == "s3cr3t-value") == expected, "\(ref)")
                _ = try await client.api(.put, "jobs/\(claimed.id)", json: ["token": claimed.object["token"] as? String ?? "", "state": "success"])
            }
        }
    }

    @Test(
        "a Developer may not run pipelines, play schedules or retry jobs on a branch only Maintainers may push or merge to; a Maintainer may",
        arguments: TestBackend.all)
    func protectedRefsLimitRunning(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let (bob, bobToken) = try await server.makeUser("bob")
            let project = try await client.createProject(["name": "app"], token: alice)
            let repository = server.environment.repositories.path(projectID: project.id)
            let ci = "build:\n  script: echo build\n"
            try GitFixtures.commit([".gitlab-ci.yml": ci], to: repository)
            try GitFixtures.commit([".gitlab-ci.yml": ci], to: repository, branch: "release/1")
            let member = try await client.api(.post, "projects/\(project.id)/members", token: alice, json: ["user_id": Int(bob.id), "access_level": 30])
            #expect(member.status == .created, "\(member.text)")
            let rule = try await client.api(
                .post, "projects/\(project.id)/protected_branches", token: alice, json: ["name": "release/*", "push_access_level": 40, "merge_access_level": 40])
            #expect(rule.status == .created, "\(rule.text)")

            // Pipelines: the Developer runs them on main (Developers push there) but not on release/1.
            #expect(try await client.api(.post, "projects/\(project.id)/pipeline", token: bobToken, json: ["ref": "main"]).status == .created)
            let refused = try await client.api(.post, "projects/\(project.id)/pipeline", token: bobToken, json: ["ref": "release/1"])
            #expect(refused.status == .badRequest || refused.status == .forbidden, "\(refused.text)")
            let allowed = try await client.api(.post, "projects/\(project.id)/pipeline", token: alice, json: ["ref": "release/1"])
            #expect(allowed.status == .created, "\(allowed.text)")

            // Schedules: the Developer's own schedule on the protected branch cannot be played by him; the Maintainer's can be, by her.
            let schedule = try await client.api(
                .post, "projects/\(project.id)/pipeline_schedules", token: alice, json: ["description": "nightly", "ref": "release/1", "cron": "0 1 * * *"])
            #expect(schedule.status == .created, "\(schedule.text)")
            let scheduleID = try #require(schedule.object["id"] as? Int)
            let play = try await client.api(.post, "projects/\(project.id)/pipeline_schedules/\(scheduleID)/play", token: bobToken)
            #expect(play.status == .forbidden, "\(play.text)")
            #expect(try await client.api(.post, "projects/\(project.id)/pipeline_schedules/\(scheduleID)/play", token: alice).status == .created)

            // Jobs: the Developer cannot retry the Maintainer's job on the protected branch.
            let pipelineID = try #require(allowed.object["id"] as? Int)
            let jobs = try await client.api(.get, "projects/\(project.id)/pipelines/\(pipelineID)/jobs", token: alice).array
            let jobID = try #require(jobs.first?["id"] as? Int)
            _ = try await client.api(.post, "projects/\(project.id)/jobs/\(jobID)/cancel", token: alice)
            #expect(try await client.api(.post, "projects/\(project.id)/jobs/\(jobID)/retry", token: bobToken).status == .forbidden)
            #expect(try await client.api(.post, "projects/\(project.id)/jobs/\(jobID)/retry", token: alice).status == .created)
        }
    }
}
