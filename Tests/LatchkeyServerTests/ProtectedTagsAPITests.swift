import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import Testing

@Suite("Protected tags API")
struct ProtectedTagsAPITests {
    @Test("Maintainers manage protected tag rules with GitLab's shapes and answers", arguments: TestBackend.all)
    func rules(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let project = try await client.createProject(["name": "app"], token: alice)
            let base = "projects/\(project.id)/protected_tags"
            #expect(try await client.api(.get, base, token: alice).array.isEmpty)

            let created = try await client.api(.post, base, token: alice, json: ["name": "v*"])
            #expect(created.status == .created, "\(created.text)")
            #expect(created.string("name") == "v*")
            let level = try #require((created.object["create_access_levels"] as? [[String: Any]])?.first)
            #expect(level["access_level"] as? Int == 40)
            #expect(level["access_level_description"] as? String == "Maintainers")
            let developers = try await client.api(.post, base, token: alice, json: ["name": "rc-*", "create_access_level": 30])
            #expect((developers.object["create_access_levels"] as? [[String: Any]])?.first?["access_level"] as? Int == 30)

            let duplicate = try await client.api(.post, base, token: alice, json: ["name": "v*"])
            #expect(duplicate.status == .unprocessableContent)
            #expect(duplicate.object["message"] as? [String] == ["Name has already been taken"])
            for bad in [20, 60, 99] {
                let refused = try await client.api(.post, base, token: alice, json: ["name": "x", "create_access_level": bad])
                #expect(refused.status == .badRequest, "\(bad)")
                #expect(refused.string("error") == "create_access_level does not have a valid value")
            }
            #expect(try await client.api(.post, base, token: alice, json: [:]).string("error") == "name is missing")
            #expect(try await client.api(.post, base, token: alice, json: ["name": "a b"]).status == .badRequest)
            let premium = try await client.api(.post, base, token: alice, json: ["name": "y", "allowed_to_create": [["user_id": 1]]])
            #expect(premium.status == .badRequest)

            let list = try await client.api(.get, base, token: alice)
            #expect(list.array.compactMap { $0["name"] as? String } == ["v*", "rc-*"])
            #expect(list.header("X-Total") == "2")
            #expect(try await client.api(.get, "\(base)/v*", token: alice).status == .ok)
            let unknown = try await client.api(.get, "\(base)/nope", token: alice)
            #expect(unknown.status == .notFound)
            #expect(unknown.string("message") == "404 Not found")
            #expect(try await client.api(.delete, "\(base)/v*", token: alice).status == .noContent)
            #expect(try await client.api(.get, "\(base)/v*", token: alice).status == .notFound)
        }
    }

    @Test("401 anonymous, 404 for outsiders, 403 below Maintainer; a job token is no credential for the rules")
    func refusals() async throws {
        try await withTestServer { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let (developer, developerToken) = try await server.makeUser("dev")
            let (_, outsider) = try await server.makeUser("outsider")
            let project = try await client.createProject(["name": "app"], token: alice)
            try await client.addMember("projects", project.id, userID: developer.id, level: Level.developer, token: alice)
            _ = try await client.api(.post, "projects/\(project.id)/protected_tags", token: alice, json: ["name": "v1"])
            let routes: [(HTTPRequest.Method, String, [String: any Sendable]?)] = [
                (.get, "projects/\(project.id)/protected_tags", nil), (.post, "projects/\(project.id)/protected_tags", ["name": "x"]),
                (.get, "projects/\(project.id)/protected_tags/v1", nil), (.delete, "projects/\(project.id)/protected_tags/v1", nil),
            ]
            let job = try await client.runningJob(server, projectID: project.id, userToken: alice)
            for (method, path, json) in routes {
                #expect(try await client.api(method, path, json: json).status == .unauthorized, "\(method) \(path)")
                #expect(try await client.api(method, path, token: outsider, json: json).status == .notFound, "\(method) \(path)")
                #expect(try await client.api(method, path, token: developerToken, json: json).status == .forbidden, "\(method) \(path)")
                let headers: HTTPFields = [HTTPField.Name("JOB-TOKEN")!: job.token]
                #expect(try await client.api(method, path, json: json, headers: headers).status == .unauthorized, "\(method) \(path) job token")
            }
            #expect(try await client.api(.get, "projects/\(project.id)/protected_tags/v1", token: alice).status == .ok)
        }
    }

    @Test("the tags API applies the rules: only the rule's level creates, only Maintainers delete, and entities say protected", arguments: TestBackend.all)
    func tagsAPI(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let (developer, developerToken) = try await server.makeUser("dev")
            let project = try await client.createProject(["name": "app"], token: alice)
            try await client.addMember("projects", project.id, userID: developer.id, level: Level.developer, token: alice)
            try GitFixtures.commit(["README.md": "hi\n"], to: server.environment.repositories.path(projectID: project.id))
            _ = try await client.api(.post, "projects/\(project.id)/protected_tags", token: alice, json: ["name": "v*"])
            let tags = "projects/\(project.id)/repository/tags"

            let refused = try await client.api(.post, tags, token: developerToken, json: ["tag_name": "v1.0", "ref": "main"])
            #expect(refused.status == .badRequest)
            #expect(refused.string("message") == "You are not allowed to create this tag as it is protected.")
            #expect(try await server.environment.repositories.tag(projectID: project.id, name: "v1.0") == nil)
            let free = try await client.api(.post, tags, token: developerToken, json: ["tag_name": "nightly", "ref": "main"])
            #expect(free.status == .created, "\(free.text)")
            #expect(free.object["protected"] as? Bool == false)
            let collision = try await client.api(.post, tags, token: alice, json: ["tag_name": "main", "ref": "main"])
            #expect(collision.status == .badRequest)
            #expect(collision.string("message") == "You cannot use default branch name to create a tag")

            let made = try await client.api(.post, tags, token: alice, json: ["tag_name": "v1.0", "ref": "main"])
            #expect(made.status == .created, "\(made.text)")
            #expect(made.object["protected"] as? Bool == true)
            let listed = try await client.api(.get, tags, token: developerToken).array
            #expect(Dictionary(uniqueKeysWithValues: listed.map { ($0["name"] as? String ?? "", $0["protected"] as? Bool) }) == ["v1.0": true, "nightly": false])
            #expect(try await client.api(.get, "\(tags)/v1.0", token: developerToken).object["protected"] as? Bool == true)

            let deleteRefused = try await client.api(.delete, "\(tags)/v1.0", token: developerToken)
            #expect(deleteRefused.status == .forbidden)
            #expect(deleteRefused.string("message")?.hasPrefix("You are not allowed to delete protected tags") == true)
            #expect(try await server.environment.repositories.tag(projectID: project.id, name: "v1.0") != nil)
            #expect(try await client.api(.delete, "\(tags)/nightly", token: developerToken).status == .noContent)
            #expect(try await client.api(.delete, "\(tags)/v1.0", token: alice).status == .noContent)

            // The releases API makes its missing tag under the same rules.
            let releases = "projects/\(project.id)/releases"
            let viaRelease = try await client.api(.post, releases, token: developerToken, json: ["tag_name": "v9.9", "ref": "main"])
            #expect(viaRelease.status == .forbidden, "\(viaRelease.text)")
            #expect(viaRelease.string("message") == "You are not allowed to create this tag as it is protected.")
            #expect(try await client.api(.post, releases, token: developerToken, json: ["tag_name": "main", "ref": "main"]).status == .forbidden)
            #expect(try await server.environment.repositories.tag(projectID: project.id, name: "v9.9") == nil)
            #expect(try await client.api(.post, releases, token: alice, json: ["tag_name": "v9.9", "ref": "main"]).status == .created)
            // Premium's per-user lists are refused however they are spelled.
            let nested = try await client.api(.post, "projects/\(project.id)/protected_tags", token: alice, form: "name=x*&allowed_to_create%5B%5D%5Buser_id%5D=3")
            #expect(nested.status == .badRequest, "\(nested.text)")
        }
    }

    @Test("a tag named like a branch runs the tag's code, never the branch's; a bare name that is both is ambiguous")
    func tagShadowingBranch() async throws {
        try await withTestServer { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let project = try await client.createProject(["name": "app"], token: alice)
            let repository = server.environment.repositories.path(projectID: project.id)
            let mainSHA = try GitFixtures.commit([".gitlab-ci.yml": "build:\n  script: echo main\n"], to: repository)
            try GitFixtures.commit([".gitlab-ci.yml": "build:\n  script: echo from-the-branch\n"], to: repository, branch: "v2.1")
            let made = try await client.api(.post, "projects/\(project.id)/repository/tags", token: alice, json: ["tag_name": "v2.1", "ref": mainSHA])
            #expect(made.status == .created, "\(made.text)")
            let pipelines = try await client.api(.get, "projects/\(project.id)/pipelines", token: alice).array
            #expect(pipelines.count == 1)
            #expect(pipelines.first?["sha"] as? String == mainSHA)
            #expect(pipelines.first?["tag"] as? Bool == true)
            let ambiguous = try await client.api(.post, "projects/\(project.id)/pipeline", token: alice, json: ["ref": "v2.1"])
            #expect(ambiguous.status == .badRequest)
            #expect(ambiguous.text.contains("Ref is ambiguous"))
        }
    }

    @Test("protected variables reach pipelines of protected tags only, and a Developer may not run one on a tag only Maintainers create", arguments: TestBackend.all)
    func protectedVariables(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let (developer, developerToken) = try await server.makeUser("dev")
            let project = try await client.createProject(["name": "app"], token: alice)
            try await client.addMember("projects", project.id, userID: developer.id, level: Level.developer, token: alice)
            try GitFixtures.commit([".gitlab-ci.yml": "build:\n  script: echo build\n"], to: server.environment.repositories.path(projectID: project.id))
            _ = try await client.api(.post, "projects/\(project.id)/variables", token: alice, json: ["key": "DEPLOY_KEY", "value": "s3cr3t-value", "protected": true])
            _ = try await client.api(.post, "projects/\(project.id)/protected_tags", token: alice, json: ["name": "v*"])
            let registration = try await server.environment.registrationToken()
            let runnerToken = try #require(try await client.api(.post, "runners", json: ["token": registration]).object["token"] as? String)

            // A tag made through the API starts its pipeline, as its maker.
            for (tag, token, expected) in [("v1.0", alice, true), ("nightly", developerToken, false)] {
                let made = try await client.api(.post, "projects/\(project.id)/repository/tags", token: token, json: ["tag_name": tag, "ref": "main"])
                #expect(made.status == .created, "\(tag): \(made.text)")
                let claimed = try await client.api(.post, "jobs/request", json: ["token": runnerToken])
                #expect(claimed.status == .created, "\(tag): \(claimed.status)")
                let variables = (claimed.object["variables"] as? [[String: Any]] ?? []).reduce(into: [String: String]()) {
                    $0[$1["key"] as? String ?? ""] = $1["value"] as? String
                }
                #expect(variables["CI_COMMIT_TAG"] == tag)
                #expect(variables["CI_COMMIT_REF_PROTECTED"] == (expected ? "true" : "false"), "\(tag)")
                #expect((variables["DEPLOY_KEY"] == "s3cr3t-value") == expected, "\(tag)")
                _ = try await client.api(.put, "jobs/\(claimed.id)", json: ["token": claimed.object["token"] as? String ?? "", "state": "success"])
            }

            let run = try await client.api(.post, "projects/\(project.id)/pipeline", token: developerToken, json: ["ref": "v1.0"])
            #expect(run.status == .badRequest, "\(run.text)")
            #expect(run.text.contains("Insufficient permissions for protected ref"))
            #expect(try await client.api(.post, "projects/\(project.id)/pipeline", token: developerToken, json: ["ref": "nightly"]).status == .created)
            #expect(try await client.api(.post, "projects/\(project.id)/pipeline", token: alice, json: ["ref": "v1.0"]).status == .created)
        }
    }
}
