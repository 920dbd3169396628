import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import Testing

@testable import LatchkeyServer

@Suite("Group and instance CI/CD variables: administration, inheritance, precedence, scopes")
struct InheritedVariablesTests {
    /// The effective variables of a claimed job, as gitlab-runner reads them (of one key, the last wins).
    static func effective(_ claimed: APIResponse) -> [String: [String: Any]] {
        (claimed.object["variables"] as? [[String: Any]] ?? []).reduce(into: [:]) { $0[$1["key"] as! String] = $1 }
    }

    @Test("Owners administer group variables, administrators instance ones; everyone else, and job tokens, are refused", arguments: TestBackend.all)
    func administration(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let (bob, bobToken) = try await server.makeUser("bob")
            let group = try await client.createGroup("platform", token: alice)
            let groupID = try #require(group.object["id"] as? Int)
            try await client.addMember("groups", Int64(groupID), userID: bob.id, level: Level.maintainer, token: alice)
            let base = "groups/\(groupID)/variables"

            let created = try await client.api(.post, base, token: alice, json: ["key": "DEPLOY_KEY", "value": "s3cret-value-1", "masked": true, "protected": true])
            #expect(created.status == .created, "\(created.text)")
            #expect(created.string("environment_scope") == "*" && created.object["masked"] as? Bool == true && created.object["hidden"] as? Bool == false)
            #expect(try await client.api(.get, base, token: bobToken).status == .forbidden, "a Maintainer is not an Owner")
            #expect(try await client.api(.post, base, token: bobToken, json: ["key": "X", "value": "y"]).status == .forbidden)
            let (_, stranger) = try await server.makeUser("stranger")
            #expect(try await client.api(.get, base, token: stranger).status == .notFound, "a private group is not shown to strangers")
            #expect(try await client.api(.get, base).status == .unauthorized)
            #expect(try await client.api(.get, base, token: alice).array.count == 1)
            #expect(try await client.api(.get, "\(base)/DEPLOY_KEY", token: alice).string("value") == "s3cret-value-1")
            let duplicate = try await client.api(.post, base, token: alice, json: ["key": "DEPLOY_KEY", "value": "other"])
            #expect(duplicate.status == .badRequest, "\(duplicate.text)")

            // The same key in two scopes: the single-variable routes need the filter, as GitLab.
            #expect(try await client.api(.post, base, token: alice, json: ["key": "DEPLOY_KEY", "value": "prod-value", "environment_scope": "production"]).status == .created)
            let ambiguous = try await client.api(.get, "\(base)/DEPLOY_KEY", token: alice)
            #expect(ambiguous.status == .conflict && ambiguous.string("message")?.contains("filter[environment_scope]") == true, "\(ambiguous.text)")
            #expect(try await client.api(.get, "\(base)/DEPLOY_KEY?filter%5Benvironment_scope%5D=production", token: alice).string("value") == "prod-value")
            let renamed = try await client.api(
                .put, "\(base)/DEPLOY_KEY?filter%5Benvironment_scope%5D=production", token: alice, json: ["value": "prod-value-2", "environment_scope": "*"])
            #expect(renamed.status == .badRequest, "moving onto a taken scope is refused: \(renamed.text)")
            #expect(try await client.api(.delete, "\(base)/DEPLOY_KEY?filter%5Benvironment_scope%5D=production", token: alice).status == .noContent)
            let badScope = try await client.api(.post, base, token: alice, json: ["key": "S", "value": "v", "environment_scope": "a\nb"])
            #expect(badScope.status == .badRequest, "\(badScope.text)")
            let tooLong = try await client.api(.post, base, token: alice, json: ["key": "L", "value": String(repeating: "x", count: 10_001)])
            #expect(tooLong.status == .badRequest, "\(tooLong.text)")

            let admin = "admin/ci/variables"
            #expect(try await client.api(.get, admin, token: alice).status == .forbidden)
            let instance = try await client.api(.post, admin, token: server.rootToken, json: ["key": "COMPANY", "value": "acme", "description": "who"])
            #expect(instance.status == .created, "\(instance.text)")
            #expect(instance.object["environment_scope"] == nil && instance.object["hidden"] == nil, "instance variables have no scope: \(instance.text)")
            #expect(try await client.api(.post, admin, token: server.rootToken, json: ["key": "S", "value": "v", "environment_scope": "production"]).status == .badRequest)
            #expect(try await client.api(.put, "\(admin)/COMPANY", token: server.rootToken, json: ["value": "acme-2"]).string("value") == "acme-2")
            #expect(try await client.api(.get, admin, token: server.rootToken).array.count == 1)

            // A job token is no credential for any level.
            let (projectID, runnerToken) = try await RunnerProtocolTests.setUp(server, client)
            let claimed = try await client.api(.post, "jobs/request", json: ["token": runnerToken])
            var headers = HTTPFields()
            headers[HTTPField.Name("JOB-TOKEN")!] = try #require(claimed.string("token"))
            for path in [base, admin, "projects/\(projectID)/variables"] {
                let refused = try await client.api(.get, path, headers: headers)
                #expect([401, 403, 404].contains(refused.status.code), "\(path): \(refused.status)")
            }
            #expect(try await client.api(.delete, "\(admin)/COMPANY", token: server.rootToken).status == .noContent)
            #expect(try await client.api(.get, "\(admin)/COMPANY", token: server.rootToken).status == .notFound)
        }
    }

    @Test("a job inherits instance, group and subgroup variables; nearer levels win; scoped and protected ones reach only where they may; all are masked", arguments: TestBackend.all)
    func inheritance(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let root = server.rootToken
            let group = try await client.createGroup("org", token: root)
            let groupID = try #require(group.object["id"] as? Int)
            let subgroup = try await client.createGroup("team", parent: Int64(groupID), token: root)
            let subgroupID = try #require(subgroup.object["id"] as? Int)
            let project = try await client.createProject(["name": "app", "namespace_id": subgroupID], token: root)
            let projectID = try #require(project.object["id"] as? Int)
            func add(_ path: String, _ json: [String: any Sendable]) async throws {
                let answer = try await client.api(.post, path, token: root, json: json)
                try #require(answer.status == .created, "\(path): \(answer.text)")
            }
            try await add("admin/ci/variables", ["key": "LEVEL", "value": "instance"])
            try await add("admin/ci/variables", ["key": "FROM_INSTANCE", "value": "i"])
            try await add("groups/\(groupID)/variables", ["key": "LEVEL", "value": "group"])
            try await add("groups/\(groupID)/variables", ["key": "FROM_GROUP", "value": "g"])
            try await add("groups/\(groupID)/variables", ["key": "GROUP_SECRET", "value": "group-secret-value-77", "masked": true])
            try await add("groups/\(groupID)/variables", ["key": "PROD_ONLY", "value": "production-password", "environment_scope": "production"])
            try await add("groups/\(groupID)/variables", ["key": "PROTECTED_ONLY", "value": "protected-value", "protected": true])
            try await add("groups/\(subgroupID)/variables", ["key": "LEVEL", "value": "subgroup"])
            try await add("groups/\(subgroupID)/variables", ["key": "FROM_SUBGROUP", "value": "s"])
            // A project elsewhere does not inherit this group's variables.
            let other = try await client.createGroup("elsewhere", token: root)
            try await add("groups/\(try #require(other.object["id"] as? Int))/variables", ["key": "FOREIGN", "value": "f"])

            try GitFixtures.commit([".gitlab-ci.yml": "job:\n  script: [\"true\"]\n"], to: server.environment.repositories.path(projectID: Int64(projectID)))
            try GitFixtures.commit([".gitlab-ci.yml": "job:\n  script: [\"true\"]\n"], to: server.environment.repositories.path(projectID: Int64(projectID)), branch: "topic")
            #expect(try await client.api(.post, "projects/\(projectID)/pipeline", token: root, json: ["ref": "main"]).status == .created)
            let registration = try await server.environment.registrationToken()
            let runnerToken = try #require(try await client.api(.post, "runners", json: ["token": registration]).string("token"))

            let onMain = try await client.api(.post, "jobs/request", json: ["token": runnerToken])
            var variables = Self.effective(onMain)
            #expect(variables["LEVEL"]?["value"] as? String == "subgroup", "the nearest group wins over its parent and the instance")
            #expect(variables["FROM_INSTANCE"]?["value"] as? String == "i" && variables["FROM_GROUP"]?["value"] as? String == "g")
            #expect(variables["FROM_SUBGROUP"]?["value"] as? String == "s")
            #expect(variables["GROUP_SECRET"]?["masked"] as? Bool == true)
            #expect(variables["PROD_ONLY"] == nil, "a variable scoped to production never reaches a job that does not deploy there")
            #expect(variables["PROTECTED_ONLY"]?["value"] as? String == "protected-value", "main is protected")
            #expect(variables["FOREIGN"] == nil)

            // The project's own variable wins over every inherited one.
            try await add("projects/\(projectID)/variables", ["key": "LEVEL", "value": "project"])
            #expect(try await client.api(.post, "projects/\(projectID)/pipeline", token: root, json: ["ref": "topic"]).status == .created)
            let onTopic = try await client.api(.post, "jobs/request", json: ["token": runnerToken])
            variables = Self.effective(onTopic)
            #expect(variables["LEVEL"]?["value"] as? String == "project")
            #expect(variables["PROTECTED_ONLY"] == nil, "topic is not protected")

            // The server masks a group's masked variable in the trace like a project's.
            let jobID = try #require(onTopic.object["id"] as? Int)
            var headers = HTTPFields()
            headers[HTTPField.Name("JOB-TOKEN")!] = try #require(onTopic.string("token"))
            // The line ends on a byte no encoding uses, so no random token's variant can hold back what precedes it.
            let line = Array("printing group-secret-value-77 here!\n".utf8)
            headers[.contentRange] = "0-\(line.count - 1)"
            let patched = try await client.execute(uri: "/api/v4/jobs/\(jobID)/trace", method: .patch, headers: headers, body: .init(bytes: line)) { $0 }
            #expect(patched.status == .accepted)
            let trace = try await client.api(.get, "projects/\(projectID)/jobs/\(jobID)/trace", token: root).text
            #expect(trace.hasPrefix("printing [MASKED] here!") && !trace.contains("group-secret"), "\(trace)")
        }
    }
}
