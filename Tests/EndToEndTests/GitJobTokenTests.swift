import Foundation
import LatchkeyTestSupport
import Testing

/// Real jobs run real `git` with `gitlab-ci-token:$CI_JOB_TOKEN` against the live server: clones across the job token scope,
/// git's own messages for each refusal, and pushes gated by `ci_push_repository_for_job_token_allowed`.
@Suite("Git with the job token, end to end", .serialized)
struct GitJobTokenTests {
    let server: LiveServer.Handle

    init() async throws { server = try await LiveServer.shared.start() }

    var root: [String: String] { ["PRIVATE-TOKEN": server.rootToken] }
    /// `127.0.0.1:port`, as the seed's `host` in `http://gitlab-ci-token:$CI_JOB_TOKEN@host/ns/proj.git`.
    var host: String { String(server.url.dropFirst("http://".count)) }

    func call(_ method: String, _ path: String, as headers: [String: String]? = nil, _ json: [String: any Sendable]? = nil) async throws -> HTTP.Response {
        try await HTTP.request(method, "\(server.url)/api/v4/\(path)", headers: headers ?? root, json: json)
    }

    func created(_ method: String, _ path: String, _ json: [String: any Sendable], as headers: [String: String]? = nil) async throws -> [String: Any] {
        let response = try await call(method, path, as: headers, json)
        #expect(response.status == 201, "\(method) \(path): \(response.status) \(response.text)")
        return response.object
    }

    /// A user with an `api` personal access token.
    func user(_ username: String) async throws -> (id: Int, headers: [String: String]) {
        let user = try await created(
            "POST", "users", ["username": username, "name": username, "email": "\(username)@example.com", "password": "a-long-password-\(UUID().uuidString)"])
        let id = try #require(user["id"] as? Int)
        let token = try await created("POST", "users/\(id)/personal_access_tokens", ["name": "e2e", "scopes": ["api"]])
        return (id, ["PRIVATE-TOKEN": try #require(token["token"] as? String)])
    }

    /// A private project in the group, made by root, holding `files` pushed with real git.
    func project(_ path: String, group: (id: Int, path: String), files: [String: String]) async throws -> Int {
        let id = try #require(try await created("POST", "projects", ["name": path, "path": path, "namespace_id": group.id, "visibility": "private"])["id"] as? Int)
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-git-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        try GitFixtures.git(["init", "-q", "-b", "main", work.path])
        for (name, content) in files { try Data(content.utf8).write(to: work.appendingPathComponent(name)) }
        try GitFixtures.git(["add", "."], in: work)
        try GitFixtures.git(["commit", "-qm", "initial"], in: work)
        let remote = server.url.replacingOccurrences(of: "://", with: "://root:\(server.rootToken)@") + "/\(group.path)/\(path).git"
        try GitFixtures.git(["push", "-q", remote, "main"], in: work)
        return id
    }

    func group(_ path: String) async throws -> (id: Int, path: String) {
        let group = try await created("POST", "groups", ["name": path, "path": path, "visibility": "private"])
        return (try #require(group["id"] as? Int), path)
    }

    func pipelineCount(_ projectID: Int) async throws -> Int {
        try await call("GET", "projects/\(projectID)/pipelines?per_page=100").array.count
    }

    /// Starts a pipeline as `user` (so its job acts as that user) with the variables, and returns its job's id.
    func start(_ projectID: Int, as user: [String: String], _ variables: [String: String]) async throws -> (pipeline: Int, job: Int) {
        let pipeline = try await created(
            "POST", "projects/\(projectID)/pipeline", ["ref": "main", "variables": variables.map { ["key": $0.key, "value": $0.value] }], as: user)
        let pipelineID = try #require(pipeline["id"] as? Int)
        let job = try await eventually("the job of pipeline \(pipelineID)") { () -> Int? in
            try await call("GET", "projects/\(projectID)/pipelines/\(pipelineID)/jobs").array.first?["id"] as? Int
        }
        return (pipelineID, job)
    }

    /// Waits for the job to finish and returns its status and trace.
    func finished(_ projectID: Int, job: Int) async throws -> (status: String, trace: String) {
        let status = try await eventually("job \(job) to finish") { () -> String? in
            let status = try await call("GET", "projects/\(projectID)/jobs/\(job)").object["status"] as? String
            return ["success", "failed", "canceled"].contains(status ?? "") ? status : nil
        }
        return (status, try await call("GET", "projects/\(projectID)/jobs/\(job)/trace").text)
    }

    func run(_ projectID: Int, as user: [String: String], _ variables: [String: String]) async throws -> (status: String, trace: String) {
        try await finished(projectID, job: try await start(projectID, as: user, variables).job)
    }

    static let ciFile = "job:\n  script:\n    - sh ci.sh\n"

    @Test("a job clones its own project and an allowlisted one with gitlab-ci-token; git shows GitLab's words for each refusal")
    func clones() async throws {
        let suffix = String(UUID().uuidString.prefix(6)).lowercased()
        let group = try await group("gitclone-\(suffix)")
        let base = "http://gitlab-ci-token:$CI_JOB_TOKEN@\(host)/\(group.path)"
        let script = """
            export GIT_TERMINAL_PROMPT=0
            case "$STEP" in
            clone)
              [ -z "$HANDOFF" ] || { \(JobHandoff.script("$CI_JOB_TOKEN")); }
              git clone \(base)/source.git own || exit 1
              echo "own says $(cat own/README)"
              git clone "$CI_REPOSITORY_URL" by-url || exit 1
              echo "by-url says $(cat by-url/README)"
              git clone \(base)/allowed.git allowed || exit 1
              echo "allowed says $(cat allowed/README)"
              git clone \(base)/refused.git refused || echo "refused clone exited $?"
              git clone \(base)/hidden.git hidden || echo "hidden clone exited $?"
              git clone http://gitlab-ci-token:$CI_JOB_TOKEN@\(host)/\(group.path)/no-such-project.git none || echo "missing clone exited $?"
              ;;
            dead)
              git clone "http://gitlab-ci-token:$DEAD_TOKEN@\(host)/\(group.path)/source.git" dead || echo "dead clone exited $?"
              ;;
            esac
            """
        let (dev, devHeaders) = try await user("gitclone-dev-\(suffix)")
        let source = try await project("source", group: group, files: [".gitlab-ci.yml": Self.ciFile, "ci.sh": script, "README": "source-content"])
        let allowed = try await project("allowed", group: group, files: ["README": "allowed-content"])
        let refused = try await project("refused", group: group, files: ["README": "refused-content"])
        _ = try await project("hidden", group: group, files: ["README": "hidden-content"])
        _ = try await created("POST", "projects/\(source)/members", ["user_id": dev, "access_level": 30])
        // Reporter is enough to read code; `hidden` has no membership at all, so the job's user cannot even see it.
        _ = try await created("POST", "projects/\(allowed)/members", ["user_id": dev, "access_level": 20])
        _ = try await created("POST", "projects/\(refused)/members", ["user_id": dev, "access_level": 20])
        _ = try await created("POST", "projects/\(allowed)/job_token_scope/allowlist", ["target_project_id": source])

        let cloneJob = try await start(source, as: devHeaders, ["STEP": "clone", "HANDOFF": "1"]).job
        let token = try await JobHandoff.take(from: server.buildsDirectory, jobID: cloneJob)
        let clone = try await finished(source, job: cloneJob)
        #expect(clone.status == "success", "\(clone.trace)")
        #expect(clone.trace.contains("own says source-content"))
        #expect(clone.trace.contains("by-url says source-content"), "CI_REPOSITORY_URL carries the job token")
        #expect(clone.trace.contains("allowed says allowed-content"))
        #expect(!clone.trace.contains("refused-content") && !clone.trace.contains("hidden-content"))
        // The scope's refusal comes back as text git shows, and git fails with the 403.
        #expect(clone.trace.contains("remote: Authentication by CI/CD job token not allowed from \(group.path)/source to \(group.path)/refused."), "\(clone.trace)")
        #expect(clone.trace.contains("fatal: unable to access 'http://\(host)/\(group.path)/refused.git/': The requested URL returned error: 403"))
        #expect(clone.trace.contains("refused clone exited 128"))
        // What the user cannot see is "not found", whether it exists or not.
        let notFound = "remote: The project you were looking for could not be found or you don't have permission to view it."
        #expect(clone.trace.contains(notFound))
        #expect(clone.trace.contains("fatal: repository 'http://\(host)/\(group.path)/hidden.git/' not found"), "\(clone.trace)")
        #expect(clone.trace.contains("fatal: repository 'http://\(host)/\(group.path)/no-such-project.git/' not found"))
        #expect(clone.trace.contains("hidden clone exited 128"))
        // git strips the credentials from the URLs it prints, and the runner masks the token everywhere else.
        #expect(token.hasPrefix("glcbt-"))
        #expect(!clone.trace.contains(token) && !clone.trace.contains("glcbt-"))

        // The same token once its job has finished.
        let dead = try await run(source, as: devHeaders, ["STEP": "dead", "DEAD_TOKEN": token])
        #expect(dead.trace.contains("remote: HTTP Basic: Access denied"), "\(dead.trace)")
        #expect(dead.trace.contains("fatal: Authentication failed for 'http://\(host)/\(group.path)/source.git/'"))
        #expect(dead.trace.contains("dead clone exited 128"))
        #expect(!dead.trace.contains(token))

        // Removing the allowlist entry closes `allowed` to the next job.
        #expect(try await call("DELETE", "projects/\(allowed)/job_token_scope/allowlist/\(source)").status == 204)
        let after = try await run(source, as: devHeaders, ["STEP": "clone", "HANDOFF": ""])
        #expect(after.status == "failed")
        #expect(after.trace.contains("remote: Authentication by CI/CD job token not allowed from \(group.path)/source to \(group.path)/allowed."), "\(after.trace)")
    }

    @Test("a job pushes with its token only when its project allows it, only there, with Developer, and the push starts no pipeline")
    func pushes() async throws {
        let suffix = String(UUID().uuidString.prefix(6)).lowercased()
        let group = try await group("gitpush-\(suffix)")
        let script = """
            export GIT_TERMINAL_PROMPT=0
            [ -n "$STEP" ] || exit 0
            if [ -n "${GO:-}" ]; then
              # Waits for the test to change the user's role while this job runs.
              \(JobHandoff.script("ready"))
            fi
            git clone -q "$CI_REPOSITORY_URL" work || exit 1
            cd work
            git -c user.name=job -c user.email=job@example.com commit -q --allow-empty -m "from job $CI_JOB_ID"
            if git push -q origin "HEAD:refs/heads/$STEP"; then echo "push own: ok"; else echo "push own: refused"; fi
            if git push -q http://gitlab-ci-token:$CI_JOB_TOKEN@\(host)/\(group.path)/other.git "HEAD:refs/heads/$STEP"; then echo "push other: ok"; else echo "push other: refused"; fi
            """
        let (dev, devHeaders) = try await user("gitpush-dev-\(suffix)")
        let source = try await project("source", group: group, files: [".gitlab-ci.yml": Self.ciFile, "ci.sh": script])
        let other = try await project("other", group: group, files: [".gitlab-ci.yml": Self.ciFile, "ci.sh": "exit 0\n"])
        _ = try await created("POST", "projects/\(source)/members", ["user_id": dev, "access_level": 30])
        _ = try await created("POST", "projects/\(other)/members", ["user_id": dev, "access_level": 30])
        // Even a project that admits `source` and allows job-token pushes takes none from another project's job.
        _ = try await created("POST", "projects/\(other)/job_token_scope/allowlist", ["target_project_id": source])
        #expect(try await call("PUT", "projects/\(other)", ["ci_push_repository_for_job_token_allowed": true]).status == 200)

        // The setting is off by default: git shows GitLab's text/plain 403.
        #expect(try await call("GET", "projects/\(source)").object["ci_push_repository_for_job_token_allowed"] as? Bool == false)
        let off = try await run(source, as: devHeaders, ["STEP": "off"])
        #expect(off.status == "success", "\(off.trace)")
        #expect(off.trace.contains("remote: You are not allowed to upload code."), "\(off.trace)")
        #expect(off.trace.contains("push own: refused"))
        #expect(off.trace.contains("push other: refused"))
        #expect(try await call("GET", "projects/\(source)/repository/branches/off").status == 404)

        // Switched on: the job pushes to its own project, and only there; the push makes no pipeline.
        let updated = try await call("PUT", "projects/\(source)", ["ci_push_repository_for_job_token_allowed": true])
        #expect(updated.status == 200 && updated.object["ci_push_repository_for_job_token_allowed"] as? Bool == true, "\(updated.text)")
        let sourcePipelines = try await pipelineCount(source)
        let otherPipelines = try await pipelineCount(other)
        let on = try await run(source, as: devHeaders, ["STEP": "on"])
        #expect(on.status == "success", "\(on.trace)")
        #expect(on.trace.contains("push own: ok"), "\(on.trace)")
        #expect(on.trace.contains("push other: refused"))
        #expect(on.trace.contains("remote: Authentication by CI/CD job token not allowed from \(group.path)/source to \(group.path)/other."))
        #expect(!on.trace.contains("glcbt-"))
        let branch = try await call("GET", "projects/\(source)/repository/branches/on")
        #expect(branch.status == 200, "\(branch.text)")
        #expect(((branch.object["commit"] as? [String: Any])?["message"] as? String)?.hasPrefix("from job") == true)
        #expect(try await call("GET", "projects/\(other)/repository/branches/on").status == 404)
        #expect(try await pipelineCount(source) == sourcePipelines + 1, "only the pipeline the test started; the job's push started none")
        #expect(try await pipelineCount(other) == otherPipelines)

        // With the user down to Reporter while the job runs, the push is refused again.
        let started = try await start(source, as: devHeaders, ["STEP": "reporter", "GO": "1"])
        #expect(try await call("PUT", "projects/\(source)/members/\(dev)", ["access_level": 20]).status == 200)
        #expect(try await JobHandoff.take(from: server.buildsDirectory, jobID: started.job) == "ready")
        let reporter = try await finished(source, job: started.job)
        #expect(reporter.status == "success", "\(reporter.trace)")
        #expect(reporter.trace.contains("remote: You are not allowed to upload code."), "\(reporter.trace)")
        #expect(reporter.trace.contains("push own: refused"))
        #expect(try await call("GET", "projects/\(source)/repository/branches/reporter").status == 404)
    }
}
