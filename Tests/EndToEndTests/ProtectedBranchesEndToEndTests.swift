import Foundation
import LatchkeyCore
import LatchkeyTestSupport
import Testing

/// Protected branches enforced on real `git push` over HTTP against the live server (the pre-receive hook), and the branches and
/// protected branches APIs driven by python-gitlab 8.6.
@Suite("Protected branches, end to end", .serialized)
struct ProtectedBranchesEndToEndTests {
    let server: LiveServer.Handle

    init() async throws { server = try await LiveServer.shared.start() }

    var root: [String: String] { ["PRIVATE-TOKEN": server.rootToken] }

    func call(_ method: String, _ path: String, as headers: [String: String]? = nil, _ json: [String: any Sendable]? = nil) async throws -> HTTP.Response {
        try await HTTP.request(method, "\(server.url)/api/v4/\(path)", headers: headers ?? root, json: json)
    }

    func created(_ method: String, _ path: String, _ json: [String: any Sendable], as headers: [String: String]? = nil) async throws -> [String: Any] {
        let response = try await call(method, path, as: headers, json)
        #expect(response.status == 201, "\(method) \(path): \(response.status) \(response.text)")
        return response.object
    }

    /// A user with an `api` + `write_repository` token, made a member of the project at `level`.
    func member(_ username: String, of projectID: Int, level: Int) async throws -> String {
        let user = try await created(
            "POST", "users", ["username": username, "name": username, "email": "\(username)@example.com", "password": "a-long-password-\(UUID().uuidString)"])
        let id = try #require(user["id"] as? Int)
        let token = try await created("POST", "users/\(id)/personal_access_tokens", ["name": "e2e", "scopes": ["api", "write_repository"]])
        _ = try await created("POST", "projects/\(projectID)/members", ["user_id": id, "access_level": level])
        return try #require(token["token"] as? String)
    }

    /// A private project of root's with one commit on main, and a clone of it to work in.
    func project(_ path: String) async throws -> (id: Int, work: URL) {
        let id = try #require(try await created("POST", "projects", ["name": path, "path": path])["id"] as? Int)
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-protected-\(UUID().uuidString)")
        try GitFixtures.git(["init", "-q", "-b", "main", work.path])
        try Data("hello\n".utf8).write(to: work.appendingPathComponent("README.md"))
        try GitFixtures.git(["add", "."], in: work)
        try GitFixtures.git(["commit", "-qm", "initial"], in: work)
        #expect(push(work, as: "root", server.rootToken, path, "main").ok)
        return (id, work)
    }

    func remote(_ username: String, _ token: String, _ path: String) -> String {
        server.url.replacingOccurrences(of: "://", with: "://\(username):\(token)@") + "/root/\(path).git"
    }

    func push(_ work: URL, as username: String, _ token: String, _ path: String, _ refspec: String, force: Bool = false) -> (ok: Bool, output: String) {
        do {
            return (true, try GitFixtures.git(["push"] + (force ? ["--force"] : []) + [remote(username, token, path), refspec], in: work))
        } catch let failure as GitFailure {
            return (false, failure.output)
        } catch {
            return (false, "\(error)")
        }
    }

    func commit(_ work: URL, _ message: String) throws {
        try GitFixtures.git(["commit", "-q", "--allow-empty", "-m", message], in: work)
    }

    @Test("git pushes below a protected branch's level are refused with GitLab's messages; allowed ones land")
    func pushes() async throws {
        let path = "protected-\(UUID().uuidString.prefix(6).lowercased())"
        let (id, work) = try await project(path)
        defer { try? FileManager.default.removeItem(at: work) }
        let developer = try await member("\(path)-dev", of: id, level: 30)
        let maintainer = try await member("\(path)-maint", of: id, level: 40)
        _ = try await created("POST", "projects/\(id)/protected_branches", ["name": "release/*"])

        // The default branch: Developers push, nobody force-pushes, nobody deletes it.
        try commit(work, "second")
        #expect(push(work, as: "dev", developer, path, "main").ok)
        try GitFixtures.git(["reset", "-q", "--hard", "HEAD~1"], in: work)
        try commit(work, "rewritten")
        let forced = push(work, as: "dev", developer, path, "main", force: true)
        #expect(!forced.ok)
        #expect(forced.output.contains("GitLab: You are not allowed to force push code to a protected branch on this project."), "\(forced.output)")
        let deleteDefault = push(work, as: "maint", maintainer, path, ":main")
        #expect(deleteDefault.output.contains("GitLab: The default branch of a project cannot be deleted."), "\(deleteDefault.output)")

        // release/*: Maintainers only.
        let create = push(work, as: "dev", developer, path, "HEAD:refs/heads/release/1")
        #expect(!create.ok)
        #expect(create.output.contains("GitLab: You are not allowed to create protected branches on this project."), "\(create.output)")
        #expect(push(work, as: "maint", maintainer, path, "HEAD:refs/heads/release/1").ok)
        try commit(work, "third")
        let update = push(work, as: "dev", developer, path, "HEAD:refs/heads/release/1")
        #expect(!update.ok)
        #expect(update.output.contains("GitLab: You are not allowed to push code to protected branches on this project."), "\(update.output)")
        #expect(push(work, as: "maint", maintainer, path, "HEAD:refs/heads/release/1").ok)
        let delete = push(work, as: "maint", maintainer, path, ":refs/heads/release/1")
        #expect(delete.output.contains("GitLab: You can only delete protected branches using the web interface."), "\(delete.output)")

        // Unprotected branches stay free.
        #expect(push(work, as: "dev", developer, path, "HEAD:refs/heads/feature/x").ok)
        #expect(push(work, as: "dev", developer, path, ":refs/heads/feature/x").ok)

        let branches = try await call("GET", "projects/\(id)/repository/branches")
        #expect(Set(branches.array.compactMap { $0["name"] as? String }) == ["main", "release/1"])
    }

    @Test("git pushes of protected tags: only the rule's level creates, no one moves one, and deleting one takes the API")
    func tagPushes() async throws {
        let path = "protected-tags-\(UUID().uuidString.prefix(6).lowercased())"
        let (id, work) = try await project(path)
        defer { try? FileManager.default.removeItem(at: work) }
        let developer = try await member("\(path)-dev", of: id, level: 30)
        let maintainer = try await member("\(path)-maint", of: id, level: 40)
        _ = try await created("POST", "projects/\(id)/protected_tags", ["name": "v*"])

        try GitFixtures.git(["tag", "v1.0"], in: work)
        let create = push(work, as: "dev", developer, path, "refs/tags/v1.0")
        #expect(!create.ok)
        #expect(create.output.contains("GitLab: You are not allowed to create this tag as it is protected."), "\(create.output)")
        #expect(push(work, as: "maint", maintainer, path, "refs/tags/v1.0").ok)
        try commit(work, "moved")
        try GitFixtures.git(["tag", "-f", "v1.0"], in: work)
        let moved = push(work, as: "maint", maintainer, path, "refs/tags/v1.0", force: true)
        #expect(!moved.ok)
        #expect(moved.output.contains("GitLab: Protected tags cannot be updated."), "\(moved.output)")
        let deleted = push(work, as: "maint", maintainer, path, ":refs/tags/v1.0")
        #expect(deleted.output.contains("GitLab: You can only delete protected tags using the web interface."), "\(deleted.output)")
        let deletedByDeveloper = push(work, as: "dev", developer, path, ":refs/tags/v1.0")
        #expect(deletedByDeveloper.output.contains("GitLab: You are not allowed to delete protected tags from this project."), "\(deletedByDeveloper.output)")
        try GitFixtures.git(["tag", "main"], in: work)
        let collision = push(work, as: "maint", maintainer, path, "refs/tags/main")
        #expect(collision.output.contains("GitLab: You cannot use default branch name to create a tag"), "\(collision.output)")

        // Unprotected tags stay free; the protected one is where the Maintainer put it.
        try GitFixtures.git(["tag", "nightly"], in: work)
        #expect(push(work, as: "dev", developer, path, "refs/tags/nightly").ok)
        #expect(push(work, as: "dev", developer, path, ":refs/tags/nightly").ok)
        let tags = try await call("GET", "projects/\(id)/repository/tags")
        #expect(tags.array.compactMap { $0["name"] as? String } == ["v1.0"])
        #expect(tags.array.first?["protected"] as? Bool == true)
        let protectedList = try await call("GET", "projects/\(id)/protected_tags")
        #expect(protectedList.array.compactMap { $0["name"] as? String } == ["v*"])
    }

    @Test("python-gitlab manages protected branches, branches and tags, refusals included")
    func pythonGitLab() async throws {
        let path = "protected-py-\(UUID().uuidString.prefix(6).lowercased())"
        let (id, work) = try await project(path)
        defer { try? FileManager.default.removeItem(at: work) }
        let developer = try await member("\(path)-dev", of: id, level: 30)
        let maintainer = try await member("\(path)-maint", of: id, level: 40)
        let script = """
            import os, gitlab
            url, pid = os.environ["URL"], int(os.environ["PROJECT"])
            gl = gitlab.Gitlab(url, private_token=os.environ["MAINTAINER"])
            dev = gitlab.Gitlab(url, private_token=os.environ["DEVELOPER"])
            p = gl.projects.get(pid)
            assert [b.name for b in p.protectedbranches.list(get_all=True)] == ["main"]
            pb = p.protectedbranches.create({"name": "stable-*", "push_access_level": gitlab.const.AccessLevel.MAINTAINER,
                                             "merge_access_level": gitlab.const.AccessLevel.MAINTAINER})
            assert pb.push_access_levels[0]["access_level"] == 40
            pb.allow_force_push = True
            pb.save()
            assert p.protectedbranches.get("stable-*").allow_force_push is True
            try:
                p.protectedbranches.create({"name": "stable-*"})
                raise SystemExit("duplicate accepted")
            except gitlab.exceptions.GitlabCreateError as e:
                assert e.response_code == 409, e
            try:
                dev.projects.get(pid, lazy=True).protectedbranches.list()
                raise SystemExit("developer listed protected branches")
            except gitlab.exceptions.GitlabListError as e:
                assert e.response_code == 403, e
            b = p.branches.create({"branch": "feature/py", "ref": "main"})
            assert b.name == "feature/py" and b.protected is False
            assert p.branches.get("main").protected is True
            try:
                p.branches.create({"branch": "feature/py", "ref": "main"})
                raise SystemExit("second branch accepted")
            except gitlab.exceptions.GitlabCreateError as e:
                assert e.response_code == 400 and "Branch already exists" in str(e), e
            try:
                dev.projects.get(pid, lazy=True).branches.create({"branch": "stable-1", "ref": "main"})
                raise SystemExit("developer created a protected branch")
            except gitlab.exceptions.GitlabCreateError as e:
                assert e.response_code == 400 and "not allowed to create protected branches" in str(e), e
            dev.projects.get(pid, lazy=True).branches.delete("feature/py")
            try:
                p.branches.delete("main")
                raise SystemExit("default branch deleted")
            except gitlab.exceptions.GitlabDeleteError as e:
                assert e.response_code == 400, e
            p.protectedbranches.delete("stable-*")
            assert [b.name for b in p.protectedbranches.list(get_all=True)] == ["main"]
            t = p.tags.create({"tag_name": "v-py", "ref": "main", "message": "from python"})
            assert t.name == "v-py" and t.message == "from python", t
            try:
                p.tags.create({"tag_name": "v-py", "ref": "main"})
                raise SystemExit("second tag accepted")
            except gitlab.exceptions.GitlabCreateError as e:
                assert e.response_code == 400 and "already exists" in str(e), e
            p.tags.delete("v-py")
            assert p.tags.list(get_all=True) == []
            pt = p.protectedtags.create({"name": "rel-*", "create_access_level": gitlab.const.AccessLevel.MAINTAINER})
            assert pt.create_access_levels[0]["access_level"] == 40, pt
            assert [t.name for t in p.protectedtags.list(get_all=True)] == ["rel-*"]
            assert p.protectedtags.get("rel-*").name == "rel-*"
            try:
                dev.projects.get(pid, lazy=True).tags.create({"tag_name": "rel-1", "ref": "main"})
                raise SystemExit("developer created a protected tag")
            except gitlab.exceptions.GitlabCreateError as e:
                assert e.response_code == 400 and "it is protected" in str(e), e
            assert p.tags.create({"tag_name": "rel-1", "ref": "main"}).protected is True
            try:
                dev.projects.get(pid, lazy=True).tags.delete("rel-1")
                raise SystemExit("developer deleted a protected tag")
            except gitlab.exceptions.GitlabDeleteError as e:
                assert e.response_code == 403, e
            p.tags.delete("rel-1")
            p.protectedtags.delete("rel-*")
            assert p.protectedtags.list(get_all=True) == []
            print("python-gitlab: ok")
            """
        let result = try Python.run(
            script, environment: ["URL": server.url, "PROJECT": String(id), "MAINTAINER": maintainer, "DEVELOPER": developer])
        #expect(result.status == 0 && result.output.contains("python-gitlab: ok"), "\(result.output)")
    }
}

/// The pip-installed `python3` (python-gitlab 8.6), read to the end and polled rather than waited on.
enum Python {
    static func run(_ script: String, environment: [String: String]) throws -> (status: Int32, output: String) {
        let process = try Subprocess.launch(
            ["/usr/bin/env", "python3", "-c", script], environment: ProcessInfo.processInfo.environment.merging(environment) { $1 }, output: .pipe,
            error: .output)
        let data = try process.readToEnd()
        while process.isRunning { usleep(10_000) }
        return (process.waitForExit(), String(decoding: data, as: UTF8.self))
    }
}
