import Foundation
import LatchkeyTestSupport
import Testing

/// A real job of project B reads a file of private project A with its CI/CD job token while A's job token scope changes: real
/// server, real git pushes, real shell jobs on the embedded runners.
@Suite("Job token scope, end to end", .serialized)
struct JobTokenScopeEndToEndTests {
    let server: LiveServer.Handle

    init() async throws { server = try await LiveServer.shared.start() }

    var root: [String: String] { ["PRIVATE-TOKEN": server.rootToken] }

    func call(_ method: String, _ path: String, as headers: [String: String]? = nil, _ json: [String: any Sendable]? = nil) async throws -> HTTP.Response {
        try await HTTP.request(method, "\(server.url)/api/v4/\(path)", headers: headers ?? root, json: json)
    }

    func created(_ method: String, _ path: String, _ json: [String: any Sendable]) async throws -> [String: Any] {
        let response = try await call(method, path, json)
        #expect(response.status == 201, "\(method) \(path): \(response.status) \(response.text)")
        return response.object
    }

    func group(_ path: String, parent: Int? = nil, visibility: String = "private") async throws -> Int {
        var body: [String: any Sendable] = ["name": path, "path": path, "visibility": visibility]
        if let parent { body["parent_id"] = parent }
        return try #require(try await created("POST", "groups", body)["id"] as? Int)
    }

    /// A user with an `api` personal access token.
    func user(_ username: String) async throws -> (id: Int, headers: [String: String]) {
        let user = try await created(
            "POST", "users", ["username": username, "name": username, "email": "\(username)@example.com", "password": "a-long-password-\(UUID().uuidString)"])
        let id = try #require(user["id"] as? Int)
        let token = try await created("POST", "users/\(id)/personal_access_tokens", ["name": "e2e", "scopes": ["api"]])
        return (id, ["PRIVATE-TOKEN": try #require(token["token"] as? String)])
    }

    /// Creates a project in the group as root and pushes `files` with real git.
    func project(_ path: String, in namespaceID: Int, namespacePath: String, files: [String: String]) async throws -> Int {
        let id = try #require(try await created("POST", "projects", ["name": path, "path": path, "namespace_id": namespaceID, "visibility": "private"])["id"] as? Int)
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-scope-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        try GitFixtures.git(["init", "-q", "-b", "main", work.path])
        for (name, content) in files { try Data(content.utf8).write(to: work.appendingPathComponent(name)) }
        try GitFixtures.git(["add", "."], in: work)
        try GitFixtures.git(["commit", "-qm", "initial"], in: work)
        let remote = server.url.replacingOccurrences(of: "://", with: "://root:\(server.rootToken)@") + "/\(namespacePath)/\(path).git"
        try GitFixtures.git(["push", "-q", remote, "main"], in: work)
        return id
    }

    struct Probe {
        var code: Int
        var trace: String
    }

    /// Runs B's probe job in a pipeline of its own, created through the API by `user` (so the job acts as that user), and
    /// returns the HTTP status its `curl` got and the job's trace.
    func probe(_ projectID: Int, step: String, as user: [String: String]) async throws -> Probe {
        let pipeline = try await call("POST", "projects/\(projectID)/pipeline", as: user, ["ref": "main", "variables": [["key": "STEP", "value": step]]])
        #expect(pipeline.status == 201, "\(pipeline.text)")
        let pipelineID = try #require(pipeline.object["id"] as? Int)
        let jobID = try await eventually("probe \(step) to finish", timeout: .seconds(60)) { () -> Int? in
            let jobs = try await call("GET", "projects/\(projectID)/pipelines/\(pipelineID)/jobs").array
            guard let job = jobs.first, let status = job["status"] as? String, ["success", "failed", "canceled"].contains(status) else { return nil }
            return job["id"] as? Int
        }
        let trace = try await call("GET", "projects/\(projectID)/jobs/\(jobID)/trace").text
        let pattern = try Regex("probe \(step) answered ([0-9]{3})")
        let match = try #require(trace.firstMatch(of: pattern), "no answer in the trace of probe \(step):\n\(trace)")
        return Probe(code: Int(String(match.output[1].substring ?? "")) ?? 0, trace: trace)
    }

    @Test("a job of B reading private A's file gets 403 until A allowlists B or B's parent group, 200 with the scope off or A public, and its trace explains each refusal")
    func scopeDecidesCrossProjectReads() async throws {
        let suffix = String(UUID().uuidString.prefix(6)).lowercased()
        // A public group, so A can be made public inside it later; A itself starts private.
        let scopeA = try await group("scope-a", visibility: "public")
        let teamB = try await group("team-b")
        let sub = try await group("sub", parent: teamB)
        let builder = try await user("builder-\(suffix)")
        let outsider = try await user("outsider-\(suffix)")

        let a = try await project("a", in: scopeA, namespacePath: "scope-a", files: ["README.md": "# A\nsecret plans\n"])
        // One job; it probes only in the pipelines the test creates (the push's own pipeline has no STEP).
        let ci = """
            probe:
              script:
                - 'if [ -n "$STEP" ]; then code=$(curl -s -o /dev/null -w "%{http_code}" -H "JOB-TOKEN: $CI_JOB_TOKEN" "$CI_API_V4_URL/projects/\(a)/repository/files/README.md/raw?ref=main"); echo "probe $STEP answered $code"; fi'
            """
        let b = try await project("b", in: sub, namespacePath: "team-b/sub", files: [".gitlab-ci.yml": ci])
        let (aPath, bPath) = ("scope-a/a", "team-b/sub/b")

        // The builder can read A as a Reporter, so only the scope decides; the outsider is no member of A at all.
        _ = try await created("POST", "projects/\(a)/members", ["user_id": builder.id, "access_level": 20])
        _ = try await created("POST", "projects/\(b)/members", ["user_id": builder.id, "access_level": 30])
        _ = try await created("POST", "projects/\(b)/members", ["user_id": outsider.id, "access_level": 30])
        let scope = try await call("GET", "projects/\(a)/job_token_scope")
        #expect(scope.object["inbound_enabled"] as? Bool == true, "\(scope.text)")

        func expectExplained(_ probe: Probe, _ rule: String) {
            // A project the job's user cannot see is never named, not even in the explanation.
            let target = rule.contains("cannot see") ? "a project you cannot see" : aPath
            #expect(probe.trace.contains("job token refused: download_code on \(target) from \(bPath)"), "\(probe.trace)")
            #expect(probe.trace.contains(rule), "\(probe.trace)")
            #expect(!probe.trace.contains("glcbt-"), "a job token leaked into the trace")
            #expect(!probe.trace.contains(server.rootToken) && !probe.trace.contains(builder.headers["PRIVATE-TOKEN"]!))
        }

        // 1. B is not on A's allowlist: 403 for a member of A, 404 for someone who cannot see A at all.
        async let refusedOutsider = probe(b, step: "1-outsider", as: outsider.headers)
        let refused = try await probe(b, step: "1", as: builder.headers)
        #expect(refused.code == 403)
        expectExplained(refused, "\(aPath) has \"Limit access to this project\" on")
        let hidden = try await refusedOutsider
        #expect(hidden.code == 404, "a private project stays invisible to a non-member, scope or not")
        expectExplained(hidden, "the job's user cannot see it")
        #expect(!hidden.trace.contains(aPath), "the explanation must not name a project its user cannot see: \(hidden.trace)")

        // 2. A adds B.
        #expect(try await created("POST", "projects/\(a)/job_token_scope/allowlist", ["target_project_id": b]).count == 2)
        async let stillHidden = probe(b, step: "2-outsider", as: outsider.headers)
        #expect(try await probe(b, step: "2", as: builder.headers).code == 200)
        #expect(try await stillHidden.code == 404, "the allowlist never lends a job more than its user's own access")
        let log = try await call("GET", "projects/\(a)/job_token_scope/authentication_log")
        #expect(log.status == 200)
        #expect(log.array.contains { ($0["origin_project"] as? [String: Any])?["full_path"] as? String == bPath }, "\(log.text)")

        // 3. A removes B.
        #expect(try await call("DELETE", "projects/\(a)/job_token_scope/allowlist/\(b)").status == 204)
        let refusedAgain = try await probe(b, step: "3", as: builder.headers)
        #expect(refusedAgain.code == 403)
        expectExplained(refusedAgain, "its allowlist admits neither \(bPath) nor a group above it")

        // 4. A adds B's parent group: B's namespace is team-b/sub, so team-b is an ancestor.
        _ = try await created("POST", "projects/\(a)/job_token_scope/groups_allowlist", ["target_group_id": teamB])
        #expect(try await probe(b, step: "4", as: builder.headers).code == 200)

        // 5. A removes the group and turns "Limit access to this project" off.
        #expect(try await call("DELETE", "projects/\(a)/job_token_scope/groups_allowlist/\(teamB)").status == 204)
        #expect(try await call("PATCH", "projects/\(a)/job_token_scope", ["enabled": false]).status == 204)
        #expect(try await probe(b, step: "5", as: builder.headers).code == 200)

        // 6. A turns the limit back on and becomes public: anyone may read it, so the scope does not restrict the read.
        #expect(try await call("PATCH", "projects/\(a)/job_token_scope", ["enabled": true]).status == 204)
        let published = try await call("PUT", "projects/\(a)", ["visibility": "public"])
        #expect(published.status == 200, "\(published.text)")
        async let publicForOutsider = probe(b, step: "6-outsider", as: outsider.headers)
        #expect(try await probe(b, step: "6", as: builder.headers).code == 200)
        #expect(try await publicForOutsider.code == 200)
    }
}
