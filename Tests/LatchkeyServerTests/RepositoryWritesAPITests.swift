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

    @Test("hostile commits: a symlink moves as a symlink, a submodule not at all, bad identities and messages are 400s, a start point on an existing branch is refused, tokens in names are caught", arguments: TestBackend.all)
    func hostileCommits(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let (_, bobToken) = try await server.makeUser("bob")
            let project = try await client.createProject(["name": "app"], token: alice)
            let repository = server.environment.repositories.path(projectID: project.id)
            let first = try GitFixtures.commit(["README.md": "hello\n"], to: repository)
            // A symbolic link and a gitlink (submodule), made as a user's git would.
            let work = FileManager.default.temporaryDirectory.appendingPathComponent("latchkey-work-\(UUID().uuidString)", isDirectory: true)
            defer { try? FileManager.default.removeItem(at: work) }
            try GitFixtures.git(["clone", "--quiet", repository.path, work.path])
            try FileManager.default.createSymbolicLink(atPath: work.appendingPathComponent("link").path, withDestinationPath: "README.md")
            try GitFixtures.git(["add", "link"], in: work)
            try GitFixtures.git(["update-index", "--add", "--cacheinfo", "160000,\(first),sub"], in: work)
            try GitFixtures.git(["commit", "--quiet", "-m", "links"], in: work)
            try GitFixtures.git(["push", "--quiet", "origin", "HEAD:refs/heads/main"], in: work)
            let commits = "projects/\(project.id)/repository/commits"
            func commit(_ actions: [[String: any Sendable]], _ extra: [String: any Sendable] = [:]) async throws -> APIResponse {
                var body: [String: any Sendable] = ["branch": "main", "commit_message": "m", "actions": actions]
                body.merge(extra) { $1 }
                return try await client.api(.post, commits, token: alice, json: body)
            }
            let head = { try GitFixtures.git(["rev-parse", "main"], in: repository).trimmingCharacters(in: .newlines) }
            let before = try head()

            let submodule = try await commit([["action": "move", "file_path": "lib", "previous_path": "sub"]])
            #expect(submodule.status == .badRequest && submodule.string("message")?.contains("submodule") == true, "\(submodule.text)")
            let moved = try await commit([["action": "move", "file_path": "links/readme", "previous_path": "link"]])
            #expect(moved.status == .created, "\(moved.text)")
            #expect(try GitFixtures.git(["ls-tree", "main", "links/readme"], in: repository).hasPrefix("120000 blob"), "a moved symlink stays a symlink")

            let nul = try await commit([["action": "create", "file_path": "a.txt", "content": "a"]], ["commit_message": "one\u{0}two"])
            #expect(nul.status == .badRequest && nul.string("message")?.contains("commit_message") == true, "\(nul.text)")
            for name in ["<>", ".", "a\nb", "x<y"] {
                let author = try await commit([["action": "create", "file_path": "a.txt", "content": "a"]], ["author_name": name])
                #expect(author.status == .badRequest && author.string("message") == "author_name is invalid", "\(name): \(author.status) \(author.text)")
            }
            let email = try await commit([["action": "create", "file_path": "a.txt", "content": "a"]], ["author_email": "a>b@example.com"])
            #expect(email.status == .badRequest && email.string("message") == "author_email is invalid", "\(email.text)")

            // GitLab: a start point for a branch that exists is refused (without `force`), never silently ignored.
            let topic = try await commit([["action": "create", "file_path": "t.txt", "content": "t"]], ["branch": "topic", "start_sha": first])
            #expect(topic.status == .created, "\(topic.text)")
            let again = try await commit([["action": "create", "file_path": "u.txt", "content": "u"]], ["branch": "topic", "start_branch": "main"])
            #expect(again.status == .badRequest && again.string("message") == "Branch already exists", "\(again.text)")
            let same = try await commit([["action": "create", "file_path": "u.txt", "content": "u"]], ["branch": "topic", "start_branch": "topic"])
            #expect(same.status == .created, "a start branch that is the branch itself is no new branch: \(same.text)")

            // Many actions, each checking last_commit_id, in one commit; one stale id refuses the whole commit.
            let files = (0..<300).map { ["action": "create", "file_path": "many/f\($0).txt", "content": "\($0)"] as [String: any Sendable] }
            let made = try await commit(files)
            #expect(made.status == .created, "\(made.text)")
            let madeID = try #require(made.string("id"))
            var updates = (0..<300).map { ["action": "update", "file_path": "many/f\($0).txt", "content": "v\($0)", "last_commit_id": madeID] as [String: any Sendable] }
            let fresh = try await commit(updates)
            #expect(fresh.status == .created, "\(fresh.text)")
            updates[150]["content"] = "again"
            let stale = try await commit(updates)
            #expect(stale.status == .badRequest && stale.string("message")?.contains("many/f0.txt") == true, "\(stale.text)")
            let bogus = try await commit([["action": "delete", "file_path": "many/f1.txt", "last_commit_id": "deadbeefdeadbeef"]])
            #expect(bogus.status == .badRequest && bogus.string("message")?.contains("changed since") == true, "\(bogus.text)")

            // A live token in a file name, a moved file's old name, an author or the branch is caught like one in content.
            let afterWrites = try head()
            let (_, carolToken) = try await server.makeUser("carol")
            let (_, daveToken) = try await server.makeUser("dave")
            let (_, erinToken) = try await server.makeUser("erin")
            let leaks: [(token: String, body: [String: any Sendable])] = [
                (bobToken, ["actions": [["action": "create", "file_path": "notes/\(bobToken).txt", "content": "x"]] as [[String: any Sendable]]]),
                (carolToken, ["actions": [["action": "move", "file_path": "moved.md", "previous_path": "README.md"]] as [[String: any Sendable]], "author_name": "x \(carolToken)"]),
                (daveToken, ["actions": [["action": "create", "file_path": "d.txt", "content": "d"]] as [[String: any Sendable]], "branch": "leak/\(daveToken)", "start_branch": "main"]),
                (erinToken, ["actions": [["action": "create", "file_path": "e.txt", "content": "e"]] as [[String: any Sendable]], "author_email": "\(erinToken)@example.com"]),
            ]
            for leak in leaks {
                let answer = try await commit([], leak.body)
                #expect(answer.status == .badRequest && answer.string("message")?.contains("live access token") == true, "\(leak.body.keys.sorted()) \(answer.text)")
                #expect(try await client.api(.get, "user", token: leak.token).status == .unauthorized, "the leaked token is revoked")
            }
            #expect(try GitFixtures.git(["for-each-ref", "--format=%(refname)"], in: repository).contains("leak/") == false)
            #expect(try head() == afterWrites && before != afterWrites)
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
