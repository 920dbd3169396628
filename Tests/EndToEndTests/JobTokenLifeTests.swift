import Foundation
import LatchkeyTestSupport
import Testing

/// The job token's whole life against a real server, a real runner running real shell jobs, and real git.
@Suite("Job token, end to end", .serialized)
struct JobTokenLifeTests {
    let server: LiveServer.Handle

    init() async throws { server = try await LiveServer.shared.start() }

    var root: [String: String] { ["PRIVATE-TOKEN": server.rootToken] }

    /// Creates a project as root and pushes `files` with real git; returns the project id.
    func project(_ name: String, files: [String: String], visibility: String = "private") async throws -> Int {
        let created = try await HTTP.request("POST", "\(server.url)/api/v4/projects", headers: root, json: ["name": name, "visibility": visibility])
        #expect(created.status == 201, "\(created.text)")
        let id = try #require(created.object["id"] as? Int)
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        try GitFixtures.git(["init", "-q", "-b", "main", work.path])
        for (path, content) in files { try Data(content.utf8).write(to: work.appendingPathComponent(path)) }
        try GitFixtures.git(["add", "."], in: work)
        try GitFixtures.git(["commit", "-qm", "ci"], in: work)
        let remote = server.url.replacingOccurrences(of: "://", with: "://root:\(server.rootToken)@") + "/root/\(name).git"
        try GitFixtures.git(["push", "-q", remote, "main"], in: work)
        return id
    }

    /// Waits for the project's newest pipeline to finish and returns its status.
    func finishedPipeline(_ projectID: Int) async throws -> String {
        try await eventually("pipeline of project \(projectID) to finish") {
            let pipelines = try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(projectID)/pipelines", headers: root).array
            guard let status = pipelines.first?["status"] as? String, ["success", "failed", "canceled"].contains(status) else { return nil }
            return status
        }
    }

    func jobs(_ projectID: Int) async throws -> [[String: Any]] {
        try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(projectID)/jobs", headers: root).array
    }

    func trace(_ projectID: Int, _ jobID: Int) async throws -> String {
        try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(projectID)/jobs/\(jobID)/trace", headers: root).text
    }

    @Test("a job calls the API with CI_JOB_TOKEN, its trace shows [MASKED] instead, and the token is dead afterwards")
    func jobUsesItsToken() async throws {
        // The job also hands its token to the test (through its workspace), so the test can try it afterwards.
        let ci = """
            job:
              script:
                - 'curl -sf -H "JOB-TOKEN: $CI_JOB_TOKEN" "$CI_API_V4_URL/job"'
                - echo "token=$CI_JOB_TOKEN"
                - printf '%s' "$CI_JOB_TOKEN" | base64
                - '\(JobHandoff.script("$CI_JOB_TOKEN"))'
              after_script:
                - echo "after"
            """
        let projectID = try await project("token-life", files: [".gitlab-ci.yml": ci])
        let token = try await JobHandoff.take(from: server.buildsDirectory, projectID: projectID)
        let status = try await finishedPipeline(projectID)
        let job = try #require(try await jobs(projectID).first)
        let jobID = try #require(job["id"] as? Int)
        let log = try await trace(projectID, jobID)
        #expect(status == "success", "\(log)")
        #expect(log.replacingOccurrences(of: " ", with: "").contains("\"id\":\(jobID)"), "the job's own id comes back from /job")
        #expect(log.contains("token=[MASKED]"))
        #expect(log.contains("after"))
        #expect(token.hasPrefix("glcbt-"))
        #expect(!log.contains(token))
        #expect(!log.contains(Data(token.utf8).base64EncodedString().prefix(40)), "the token's base64 must be masked too")
        let dead = try await HTTP.request("GET", "\(server.url)/api/v4/job", headers: ["JOB-TOKEN": token])
        #expect(dead.status == 401)
        #expect(dead.object["message"] as? String == "401 Unauthorized")
    }

    @Test("two jobs of one pipeline get different tokens, and a retried job gets a new one")
    func distinctTokens() async throws {
        let ci = """
            stages: [one, two]
            first:
              stage: one
              script:
                - printf '%s' "$CI_JOB_TOKEN" | sha256sum
            second:
              stage: two
              script:
                - printf '%s' "$CI_JOB_TOKEN" | sha256sum
            """
        let projectID = try await project("two-tokens", files: [".gitlab-ci.yml": ci])
        _ = try await finishedPipeline(projectID)
        var digests: [String] = []
        for job in try await jobs(projectID) {
            let log = try await trace(projectID, try #require(job["id"] as? Int))
            let digest = log.split(separator: "\n").first { $0.hasSuffix("  -") }.map(String.init)
            digests.append(try #require(digest, "\(log)"))
        }
        #expect(digests.count == 2)
        #expect(Set(digests).count == 2)

        let first = try #require(try await jobs(projectID).first { $0["name"] as? String == "first" })
        let retried = try await HTTP.request("POST", "\(server.url)/api/v4/projects/\(projectID)/jobs/\(first["id"] as! Int)/retry", headers: root)
        #expect(retried.status == 201)
        let newID = try #require(retried.object["id"] as? Int)
        #expect(newID != first["id"] as? Int)
        let log = try await eventually("retried job to finish") {
            let job = try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(projectID)/jobs/\(newID)", headers: root).object
            return job["status"] as? String == "success" ? try await trace(projectID, newID) : nil
        }
        let digest = try #require(log.split(separator: "\n").first { $0.hasSuffix("  -") }.map(String.init))
        #expect(!digests.contains(digest))
    }

    @Test("a job that revokes its own token with POST /job/token/revoke is canceled at once and its token is dead")
    func killSwitch() async throws {
        let ci = """
            job:
              script:
                - '\(JobHandoff.script("$CI_JOB_TOKEN"))'
                - 'curl -sf -X POST -H "JOB-TOKEN: $CI_JOB_TOKEN" "$CI_API_V4_URL/job/token/revoke"'
                - echo revoked
                - sleep 120
                - echo not-reached
            """
        let projectID = try await project("kill-switch", files: [".gitlab-ci.yml": ci])
        let token = try await JobHandoff.take(from: server.buildsDirectory, projectID: projectID)
        let status = try await finishedPipeline(projectID)
        #expect(status == "canceled")
        let job = try #require(try await jobs(projectID).first)
        let log = try await trace(projectID, try #require(job["id"] as? Int))
        #expect(log.contains("this job's token was revoked by the job itself"), "\(log)")
        #expect(!log.contains("not-reached"))
        #expect(try await HTTP.request("GET", "\(server.url)/api/v4/job", headers: ["JOB-TOKEN": token]).status == 401)
    }

    @Test("a job's token is refused once the job is canceled, and a finished job's token gets 401 from the API and git")
    func tokenDiesOnCancel() async throws {
        // The job hands its token to the test through its workspace, then waits to be canceled.
        let ci = """
            job:
              script:
                - '\(JobHandoff.script("$CI_JOB_TOKEN"))'
                - sleep 120
            """
        let projectID = try await project("cancel-me", files: [".gitlab-ci.yml": ci])
        let token = try await JobHandoff.take(from: server.buildsDirectory, projectID: projectID)
        let alive = try await HTTP.request("GET", "\(server.url)/api/v4/job", headers: ["JOB-TOKEN": token])
        #expect(alive.status == 200)
        let jobID = try #require(alive.object["id"] as? Int)
        let clone = FileManager.default.temporaryDirectory.appendingPathComponent("clone-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: clone) }
        let authed = server.url.replacingOccurrences(of: "://", with: "://gitlab-ci-token:\(token)@") + "/root/cancel-me.git"
        try GitFixtures.git(["clone", "-q", authed, clone.path])

        let canceled = try await HTTP.request("POST", "\(server.url)/api/v4/projects/\(projectID)/jobs/\(jobID)/cancel", headers: root)
        #expect(canceled.status == 201)
        _ = try await eventually("job to be canceled") {
            let job = try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(projectID)/jobs/\(jobID)", headers: root).object
            return job["status"] as? String == "canceled" ? true : nil
        }
        #expect(try await HTTP.request("GET", "\(server.url)/api/v4/job", headers: ["JOB-TOKEN": token]).status == 401)
        #expect(try await HTTP.request("GET", "\(server.url)/api/v4/job?job_token=\(token)").status == 401)
        #expect(throws: GitFailure.self) {
            try GitFixtures.git(["clone", "-q", authed, clone.path + "-again"])
        }

        // The token never reached the database, the data directory, or the server's log in plaintext.
        for file in try FileManager.default.subpathsOfDirectory(atPath: server.dataDirectory.path) {
            let url = server.dataDirectory.appendingPathComponent(file)
            guard let data = try? Data(contentsOf: url) else { continue }
            #expect(data.range(of: Data(token.utf8)) == nil, "token found in \(file)")
        }
        let serverLog = try Data(contentsOf: server.logFile)
        #expect(serverLog.range(of: Data(token.utf8)) == nil, "token found in the server log")
        #expect(serverLog.range(of: Data(server.rootToken.utf8)) == nil, "root token found in the server log")
    }
}
