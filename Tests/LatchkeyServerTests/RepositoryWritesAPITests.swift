import Foundation
import HummingbirdTesting
import LatchkeyCore
import HTTPTypes
import LatchkeyTestSupport
import Testing

@testable import LatchkeyServer

@Suite("Repository writes: commits with actions and the files API")
struct RepositoryWritesAPITests {
    @Test("the files API creates, updates (checking last_commit_id) and deletes files as commits on the branch", arguments: TestBackend.all)
    func files(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let project = try await client.createProject(["name": "app"], token: alice)
            let repository = server.environment.repositories.path(projectID: project.id)
            let first = try GitFixtures.commit(["README.md": "hello\n"], to: repository)
            let base = "projects/\(project.id)/repository/files"

            let created = try await client.api(.post, "\(base)/docs%2Fa%20b.md", token: alice, json: ["branch": "main", "content": "# A\n", "commit_message": "add a"])
            #expect(created.status == .created, "\(created.text)")
            #expect(created.string("file_path") == "docs/a b.md" && created.string("branch") == "main")
            #expect(try await client.api(.get, "\(base)/docs%2Fa%20b.md/raw?ref=main", token: alice).text == "# A\n")
            let again = try await client.api(.post, "\(base)/docs%2Fa%20b.md", token: alice, json: ["branch": "main", "content": "x", "commit_message": "again"])
            #expect(again.status == .badRequest && again.string("message")?.hasPrefix("A file with this name already exists") == true, "\(again.text)")

            let binary = Data([0, 1, 2, 255]).base64EncodedString()
            let updated = try await client.api(
                .put, "\(base)/README.md", token: alice,
                json: ["branch": "main", "content": binary, "encoding": "base64", "commit_message": "binary", "author_name": "Bot", "author_email": "bot@example.com"])
            #expect(updated.status == .ok, "\(updated.text)")
            #expect(try await client.api(.get, "\(base)/README.md/raw?ref=main", token: alice).body == Data([0, 1, 2, 255]))
            let log = try GitFixtures.git(["log", "-1", "--format=%an <%ae>|%s"], in: repository)
            #expect(log.trimmingCharacters(in: .newlines) == "Bot <bot@example.com>|binary")
            let stale = try await client.api(.put, "\(base)/README.md", token: alice, json: ["branch": "main", "content": "y", "commit_message": "stale", "last_commit_id": first])
            #expect(stale.status == .badRequest && stale.string("message")?.contains("changed since") == true, "\(stale.text)")

            #expect(try await client.api(.delete, "\(base)/README.md", token: alice, json: ["branch": "main", "commit_message": "rm"]).status == .noContent)
            let gone = try await client.api(.delete, "\(base)/README.md", token: alice, json: ["branch": "main", "commit_message": "rm"])
            #expect(gone.status == .badRequest && gone.string("message")?.hasPrefix("A file with this name doesn't exist") == true)
            #expect(try await client.api(.post, "\(base)/x.txt", token: alice, json: ["branch": "main", "content": "x"]).status == .badRequest, "commit_message is required")
            #expect(try await client.api(.post, "\(base)/x.txt", token: alice, json: ["branch": "nope", "content": "x", "commit_message": "m"]).string("message")
                == "You can only create or edit files when you are on a branch")
            let branched = try await client.api(.post, "\(base)/x.txt", token: alice, json: ["branch": "feature", "start_branch": "main", "content": "x\n", "commit_message": "m"])
            #expect(branched.status == .created, "\(branched.text)")
            #expect(try await client.api(.get, "\(base)/x.txt/raw?ref=feature", token: alice).text == "x\n")
            #expect(try await client.api(.get, "\(base)/x.txt/raw?ref=main", token: alice).status == .notFound)
        }
    }

    @Test("POST commits applies create, update, move, chmod and delete in one commit, and starts the branch's pipeline", arguments: TestBackend.all)
    func commits(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let project = try await client.createProject(["name": "app"], token: alice)
            let repository = server.environment.repositories.path(projectID: project.id)
            // An empty repository: the first commit makes the branch.
            let initial = try await client.api(
                .post, "projects/\(project.id)/repository/commits", token: alice,
                json: ["branch": "main", "commit_message": "start", "actions": [
                    ["action": "create", "file_path": "a.txt", "content": "a\n"], ["action": "create", "file_path": "run.sh", "content": "echo\n"],
                    ["action": "create", "file_path": "old/name.txt", "content": "n\n"], ["action": "create", "file_path": "gone.txt", "content": "g\n"],
                ] as [[String: any Sendable]]])
            #expect(initial.status == .created, "\(initial.text)")
            let parent = try #require(initial.string("id"))
            let ci = "build:\n  script: [\"true\"]\n"
            let second = try await client.api(
                .post, "projects/\(project.id)/repository/commits", token: alice,
                json: ["branch": "main", "commit_message": "many\n\nbody", "actions": [
                    ["action": "update", "file_path": "a.txt", "content": "A\n"], ["action": "chmod", "file_path": "run.sh", "execute_filemode": true],
                    ["action": "move", "file_path": "new/name.txt", "previous_path": "old/name.txt"], ["action": "delete", "file_path": "gone.txt"],
                    ["action": "create", "file_path": ".gitlab-ci.yml", "content": ci],
                ] as [[String: any Sendable]]])
            #expect(second.status == .created, "\(second.text)")
            #expect(second.object["parent_ids"] as? [String] == [parent])
            #expect(second.string("title") == "many" && second.string("message") == "many\n\nbody")
            #expect((second.object["stats"] as? [String: Any])?["additions"] as? Int == 3, "\(second.text)")
            let tree = try GitFixtures.git(["ls-tree", "-r", "main"], in: repository)
            #expect(tree.contains("100755 blob") && tree.contains("\trun.sh"))
            #expect(tree.contains("\tnew/name.txt") && !tree.contains("old/name.txt") && !tree.contains("gone.txt"))
            #expect(try GitFixtures.git(["show", "main:a.txt"], in: repository) == "A\n")
            let pipelines = try await client.api(.get, "projects/\(project.id)/pipelines", token: alice)
            #expect(pipelines.array.count == 1, "the commit that added .gitlab-ci.yml started a pipeline: \(pipelines.text)")

            for (actions, message) in [
                ([["action": "create", "file_path": "a.txt", "content": "x"]], "A file with this name already exists"),
                ([["action": "update", "file_path": "nope.txt", "content": "x"]], "A file with this name doesn't exist"),
                ([["action": "create", "file_path": "a.txt/below", "content": "x"]], "Your changes could not be committed"),
                ([["action": "launch", "file_path": "x"]], "actions[0][action] does not have a valid value"),
                ([["action": "create", "file_path": "../x", "content": "x"]], "actions[0][file_path] is invalid"),
                ([["action": "create", "file_path": "sub/.git/config", "content": "x"]], "actions[0][file_path] is invalid"),
                ([["action": "chmod", "file_path": "a.txt"]], "actions[0][execute_filemode] is missing"),
            ] as [([[String: any Sendable]], String)] {
                let refused = try await client.api(.post, "projects/\(project.id)/repository/commits", token: alice, json: ["branch": "main", "commit_message": "m", "actions": actions])
                #expect(refused.status == .badRequest, "\(actions): \(refused.status)")
                #expect(((refused.string("message") ?? refused.string("error")) ?? "").hasPrefix(message), "\(refused.text)")
            }
            #expect(try await client.api(.post, "projects/\(project.id)/repository/commits", token: alice, json: ["branch": "main", "commit_message": "m", "actions": [String]()]).status == .badRequest)
            #expect(try GitFixtures.git(["rev-parse", "main"], in: repository).trimmingCharacters(in: .newlines) == second.string("id"), "nothing refused moved the branch")
        }
    }

    @Test("writes need Developer, respect protected branches, refuse job tokens, and a live token in the content is revoked and refused", arguments: TestBackend.all)
    func refusals(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let (bob, bobToken) = try await server.makeUser("bob")
            let (carol, carolToken) = try await server.makeUser("carol")
            let project = try await client.createProject(["name": "app"], token: alice)
            try GitFixtures.commit(["README.md": "hello\n"], to: server.environment.repositories.path(projectID: project.id))
            try await client.addMember("projects", project.id, userID: bob.id, level: Level.reporter, token: alice)
            try await client.addMember("projects", project.id, userID: carol.id, level: Level.developer, token: alice)
            let path = "projects/\(project.id)/repository/files/new.txt"
            let write: [String: any Sendable] = ["branch": "main", "content": "x", "commit_message": "m"]
            #expect(try await client.api(.post, path, token: bobToken, json: write).status == .forbidden)
            let (_, stranger) = try await server.makeUser("stranger")
            #expect(try await client.api(.post, path, token: stranger, json: write).status == .notFound)
            #expect(try await client.api(.post, path, json: write).status == .unauthorized)
            // The default branch comes protected; make it Maintainers' only for pushes.
            _ = try await client.api(.delete, "projects/\(project.id)/protected_branches/main", token: alice)
            let protected = try await client.api(.post, "projects/\(project.id)/protected_branches", token: alice, json: ["name": "main", "push_access_level": 40])
            #expect(protected.status == .created, "\(protected.text)")
            #expect(try await client.api(.post, path, token: carolToken, json: write).status == .forbidden, "main is Maintainers' only")
            #expect(try await client.api(.post, path, token: carolToken, json: ["branch": "topic", "start_branch": "main", "content": "x", "commit_message": "m"]).status == .created)

            // A live personal access token pasted into a file: revoked at once, and the commit does not land.
            let leaked = try await client.api(.post, path, token: alice, json: ["branch": "main", "content": "token = \(bobToken)\n", "commit_message": "oops"])
            #expect(leaked.status == .badRequest && leaked.string("message")?.contains("live access token") == true, "\(leaked.text)")
            #expect(try await client.api(.get, "user", token: bobToken).status == .unauthorized)
            #expect(try await client.api(.get, "\(path)/raw?ref=main", token: alice).status == .notFound)
        }
    }

    @Test("a job token is no credential for writes, as in GitLab's job-token table")
    func jobToken() async throws {
        try await withTestServer(.sqlite) { server, client in
            let (projectID, runnerToken) = try await RunnerProtocolTests.setUp(server, client)
            let claimed = try await client.api(.post, "jobs/request", json: ["token": runnerToken])
            let token = try #require(claimed.string("token"))
            var headers = HTTPFields()
            headers[HTTPField.Name("JOB-TOKEN")!] = token
            let write = try await client.api(
                .post, "projects/\(projectID)/repository/files/from-job.txt", json: ["branch": "main", "content": "x", "commit_message": "m"], headers: headers)
            #expect(write.status == .unauthorized, "\(write.status) \(write.text)")
            #expect(try await client.api(.get, "projects/\(projectID)/repository/files/from-job.txt/raw?ref=main", token: server.rootToken).status == .notFound)
        }
    }
}
