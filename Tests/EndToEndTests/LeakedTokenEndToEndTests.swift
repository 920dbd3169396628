import Foundation
import LatchkeyTestSupport
import Testing

/// The automatic kill switch with the real server, runner and git: a job commits its own `CI_JOB_TOKEN` and pushes it; the
/// push is refused, the token dies and the job is canceled.
@Suite("Leaked tokens, end to end", .serialized)
struct LeakedTokenEndToEndTests {
    let server: LiveServer.Handle

    init() async throws { server = try await LiveServer.shared.start() }

    var root: [String: String] { ["PRIVATE-TOKEN": server.rootToken] }

    func call(_ method: String, _ path: String, as headers: [String: String]? = nil, _ json: [String: any Sendable]? = nil) async throws -> HTTP.Response {
        try await HTTP.request(method, "\(server.url)/api/v4/\(path)", headers: headers ?? root, json: json)
    }

    func remote(_ path: String, user: String, token: String) -> String {
        server.url.replacingOccurrences(of: "://", with: "://\(user):\(token)@") + "/root/\(path).git"
    }

    @Test("a job that pushes a commit holding its own CI_JOB_TOKEN is refused, canceled, and its token dead; git shows the refusal")
    func jobPushesItsOwnToken() async throws {
        let path = "leak-\(String(UUID().uuidString.prefix(6)).lowercased())"
        let created = try await call("POST", "projects", ["name": path, "path": path])
        let projectID = try #require(created.object["id"] as? Int, "\(created.text)")
        #expect(try await call("PUT", "projects/\(projectID)", ["ci_push_repository_for_job_token_allowed": true]).status == 200)
        let script = """
            export GIT_TERMINAL_PROMPT=0
            [ -n "$LEAK" ] || exit 0
            git clone -q "$CI_REPOSITORY_URL" work || exit 1
            cd work
            echo "deploy_token=$CI_JOB_TOKEN" > deploy.env
            git add deploy.env
            git -c user.name=job -c user.email=job@example.com commit -q -m "add the deploy token"
            git push origin HEAD:refs/heads/leaked 2>&1 || echo "push refused"
            sleep 60
            """
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-leak-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        try GitFixtures.git(["init", "-q", "-b", "main", work.path])
        try Data("job:\n  script:\n    - sh ci.sh\n".utf8).write(to: work.appendingPathComponent(".gitlab-ci.yml"))
        try Data(script.utf8).write(to: work.appendingPathComponent("ci.sh"))
        try GitFixtures.git(["add", "."], in: work)
        try GitFixtures.git(["commit", "-qm", "initial"], in: work)
        try GitFixtures.git(["push", "-q", remote(path, user: "root", token: server.rootToken), "main"], in: work)

        let pipeline = try await call("POST", "projects/\(projectID)/pipeline", ["ref": "main", "variables": [["key": "LEAK", "value": "1"]]])
        let pipelineID = try #require(pipeline.object["id"] as? Int, "\(pipeline.text)")
        let jobID = try await eventually("the job of pipeline \(pipelineID)") { () -> Int? in
            try await call("GET", "projects/\(projectID)/pipelines/\(pipelineID)/jobs").array.first?["id"] as? Int
        }
        // The job never gets to sleep out its 60 s: its push kills its token and cancels it.
        let status = try await eventually("job \(jobID) to be canceled") { () -> String? in
            let status = try await call("GET", "projects/\(projectID)/jobs/\(jobID)").object["status"] as? String
            return ["success", "failed", "canceled"].contains(status ?? "") ? status : nil
        }
        #expect(status == "canceled")
        let trace = try await call("GET", "projects/\(projectID)/jobs/\(jobID)/trace").text
        #expect(trace.contains("Latchkey: this job's token appeared in a git push and was revoked (leak detection); the job is canceled."), "\(trace)")
        #expect(try await call("GET", "projects/\(projectID)/repository/branches/leaked").status == 404, "the pushed commit never landed")
        let audit = try await call("GET", "projects/\(projectID)/audit_events").text
        #expect(audit.contains("leaked_token_revoked") && audit.contains("job_token_revoked"), "\(audit)")

        // What git prints to whoever pushes a live token: a throwaway user's token, pushed by root with real git.
        let user = try await call(
            "POST", "users", ["username": "\(path)-u", "name": "U", "email": "\(path)@example.com", "password": "a-long-password-\(UUID().uuidString)"])
        let userID = try #require(user.object["id"] as? Int)
        let pat = try #require(try await call("POST", "users/\(userID)/personal_access_tokens", ["name": "e2e", "scopes": ["api"]]).object["token"] as? String)
        #expect(try await call("GET", "user", as: ["PRIVATE-TOKEN": pat]).status == 200)
        try Data("PRIVATE_TOKEN=\(pat)\n".utf8).write(to: work.appendingPathComponent("notes.txt"))
        try GitFixtures.git(["add", "notes.txt"], in: work)
        try GitFixtures.git(["commit", "-qm", "notes"], in: work)
        let refusal: String
        do {
            try GitFixtures.git(["push", remote(path, user: "root", token: server.rootToken), "main"], in: work)
            refusal = ""
        } catch let failure as GitFailure {
            refusal = failure.output
        }
        #expect(refusal.contains("remote: GitLab: The push contains a live access token (notes.txt in the pushed commits), which has been revoked."), "\(refusal)")
        #expect(refusal.contains("pre-receive hook declined"), "\(refusal)")
        #expect(!refusal.contains(pat))
        #expect(try await call("GET", "user", as: ["PRIVATE-TOKEN": pat]).status == 401)
    }
}
