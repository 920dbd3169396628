import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import Testing

@Suite("A failed job meets its retry and allow_failure:exit_codes, as GitLab")
struct JobFailurePolicyTests {
    /// A project whose one commit holds `ciFile`, a pipeline on it, and a registered runner's token.
    static func setUp(_ server: TestServer, _ client: any TestClientProtocol, ciFile: String) async throws -> (projectID: Int, pipelineID: Int, runnerToken: String) {
        let created = try await client.api(.post, "projects", token: server.rootToken, json: ["name": "app"])
        let projectID = try #require(created.object["id"] as? Int)
        try GitFixtures.commit([".gitlab-ci.yml": ciFile], to: server.environment.repositories.path(projectID: Int64(projectID)))
        let pipeline = try await client.api(.post, "projects/\(projectID)/pipeline", token: server.rootToken, json: ["ref": "main"])
        #expect(pipeline.status == .created)
        let registrationToken = try await server.environment.registrationToken()
        let runner = try await client.api(.post, "runners", json: ["token": registrationToken, "description": "test runner"])
        return (projectID, try #require(pipeline.object["id"] as? Int), try #require(runner.object["token"] as? String))
    }

    /// Claims the next job and ends it as the runner's final PUT does; returns the job's name, or nil if there was none.
    static func run(
        _ client: any TestClientProtocol, _ runnerToken: String, state: String, reason: String? = nil, exitCode: Int? = nil
    ) async throws -> String? {
        let claimed = try await client.api(.post, "jobs/request", json: ["token": runnerToken])
        guard claimed.status == .created else { return nil }
        let jobID = try #require(claimed.object["id"] as? Int)
        let token = try #require(claimed.object["token"] as? String)
        var body: [String: any Sendable] = ["token": token, "state": state]
        if let reason { body["failure_reason"] = reason }
        if let exitCode { body["exit_code"] = exitCode }
        #expect(try await client.api(.put, "jobs/\(jobID)", json: body).status == .ok)
        return (claimed.object["job_info"] as? [String: Any])?["name"] as? String
    }

    static func jobs(_ server: TestServer, _ client: any TestClientProtocol, _ projectID: Int, _ pipelineID: Int) async throws -> [[String: Any]] {
        try await client.api(.get, "projects/\(projectID)/pipelines/\(pipelineID)/jobs?include_retried=true", token: server.rootToken).array
    }

    static func pipelineStatus(_ server: TestServer, _ client: any TestClientProtocol, _ projectID: Int, _ pipelineID: Int) async throws -> String? {
        try await client.api(.get, "projects/\(projectID)/pipelines/\(pipelineID)", token: server.rootToken).object["status"] as? String
    }

    @Test("retry: 2 re-queues a failed job twice as new jobs with the same name, keeping the failed ones, then the pipeline fails", arguments: TestBackend.all)
    func retriesUpToMax(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (projectID, pipelineID, runnerToken) = try await Self.setUp(server, client, ciFile: "build:\n  script: exit 1\n  retry: 2\n")
            for attempt in 1...3 {
                #expect(try await Self.run(client, runnerToken, state: "failed", reason: "script_failure", exitCode: 1) == "build")
                let status = try await Self.pipelineStatus(server, client, projectID, pipelineID)
                #expect(status == (attempt < 3 ? "pending" : "failed"))
            }
            #expect(try await Self.run(client, runnerToken, state: "failed") == nil)
            let jobs = try await Self.jobs(server, client, projectID, pipelineID)
            #expect(jobs.count == 3)
            #expect(jobs.allSatisfy { $0["name"] as? String == "build" && $0["status"] as? String == "failed" })
            #expect(jobs.filter { $0["retried"] as? Bool == true }.count == 2)
        }
    }

    @Test("a retried job that then succeeds makes the pipeline succeed and runs the next stage")
    func retryThenSuccess() async throws {
        try await withTestServer { server, client in
            let ci = "stages: [build, test]\nbuild:\n  stage: build\n  script: make\n  retry: 1\ntest:\n  stage: test\n  script: make test\n"
            let (projectID, pipelineID, runnerToken) = try await Self.setUp(server, client, ciFile: ci)
            #expect(try await Self.run(client, runnerToken, state: "failed", reason: "runner_system_failure") == "build")
            #expect(try await Self.run(client, runnerToken, state: "success", exitCode: 0) == "build")
            #expect(try await Self.run(client, runnerToken, state: "success", exitCode: 0) == "test")
            #expect(try await Self.pipelineStatus(server, client, projectID, pipelineID) == "success")
        }
    }

    @Test("retry:when only retries the failure reasons it names")
    func retryWhen() async throws {
        try await withTestServer { server, client in
            let ci = "build:\n  script: make\n  retry:\n    max: 2\n    when: [runner_system_failure, stuck_or_timeout_failure]\n"
            let (projectID, pipelineID, runnerToken) = try await Self.setUp(server, client, ciFile: ci)
            #expect(try await Self.run(client, runnerToken, state: "failed", reason: "runner_system_failure") == "build")
            #expect(try await Self.run(client, runnerToken, state: "failed", reason: "script_failure", exitCode: 1) == "build")
            #expect(try await Self.run(client, runnerToken, state: "failed") == nil)
            #expect(try await Self.pipelineStatus(server, client, projectID, pipelineID) == "failed")
            #expect(try await Self.jobs(server, client, projectID, pipelineID).count == 2)
        }
    }

    @Test("retry:exit_codes only retries those exit codes")
    func retryExitCodes() async throws {
        try await withTestServer { server, client in
            let ci = "build:\n  script: make\n  retry:\n    max: 2\n    exit_codes: [137]\n"
            let (projectID, pipelineID, runnerToken) = try await Self.setUp(server, client, ciFile: ci)
            #expect(try await Self.run(client, runnerToken, state: "failed", reason: "script_failure", exitCode: 137) == "build")
            #expect(try await Self.run(client, runnerToken, state: "failed", reason: "script_failure", exitCode: 1) == "build")
            #expect(try await Self.run(client, runnerToken, state: "failed") == nil)
            #expect(try await Self.pipelineStatus(server, client, projectID, pipelineID) == "failed")
        }
    }

    @Test("a canceled job is not retried")
    func canceledIsNotRetried() async throws {
        try await withTestServer { server, client in
            let (projectID, pipelineID, runnerToken) = try await Self.setUp(server, client, ciFile: "build:\n  script: make\n  retry: 2\n")
            let claimed = try await client.api(.post, "jobs/request", json: ["token": runnerToken])
            let jobID = try #require(claimed.object["id"] as? Int)
            let token = try #require(claimed.object["token"] as? String)
            _ = try await client.api(.post, "projects/\(projectID)/jobs/\(jobID)/cancel", token: server.rootToken)
            _ = try await client.api(.put, "jobs/\(jobID)", json: ["token": token, "state": "failed", "failure_reason": "script_failure"])
            #expect(try await Self.jobs(server, client, projectID, pipelineID).count == 1)
            #expect(try await Self.pipelineStatus(server, client, projectID, pipelineID) == "canceled")
        }
    }

    @Test("allow_failure:exit_codes: a listed exit code is allowed to fail, the pipeline succeeds with the next stage run; another code fails it")
    func allowFailureExitCodes() async throws {
        let ci = "stages: [build, test]\nlint:\n  stage: build\n  script: lint\n  allow_failure:\n    exit_codes: [3, 42]\ntest:\n  stage: test\n  script: make test\n"
        try await withTestServer { server, client in
            let (projectID, pipelineID, runnerToken) = try await Self.setUp(server, client, ciFile: ci)
            #expect(try await Self.run(client, runnerToken, state: "failed", reason: "script_failure", exitCode: 42) == "lint")
            let lint = try #require(try await Self.jobs(server, client, projectID, pipelineID).first { $0["name"] as? String == "lint" })
            #expect(lint["status"] as? String == "failed")
            #expect(lint["allow_failure"] as? Bool == true)
            #expect(try await Self.run(client, runnerToken, state: "success", exitCode: 0) == "test")
            #expect(try await Self.pipelineStatus(server, client, projectID, pipelineID) == "success")
        }
        try await withTestServer { server, client in
            let (projectID, pipelineID, runnerToken) = try await Self.setUp(server, client, ciFile: ci)
            #expect(try await Self.run(client, runnerToken, state: "failed", reason: "script_failure", exitCode: 1) == "lint")
            #expect(try await Self.run(client, runnerToken, state: "success") == nil)
            #expect(try await Self.pipelineStatus(server, client, projectID, pipelineID) == "failed")
        }
    }

    @Test("a hostile rules:if regex against a 100 KB variable ends pipeline creation fast with an error")
    func hostileRegexAtPipelineCreation() async throws {
        let big = String(repeating: "a", count: 100_000) + "!"
        try await withTestServer { server, client in
            let created = try await client.api(.post, "projects", token: server.rootToken, json: ["name": "app"])
            let projectID = try #require(created.object["id"] as? Int)
            for (index, pattern) in ["(a+)+$", ".*.*.*="].enumerated() {
                let ci = "variables:\n  BIG: \"\(big)\"\nbuild:\n  script: make\n  rules:\n    - if: '$BIG =~ /\(pattern)/'\n"
                try GitFixtures.commit([".gitlab-ci.yml": ci], to: server.environment.repositories.path(projectID: Int64(projectID)), message: "try \(index)")
                let started = ContinuousClock.now
                let pipeline = try await client.api(.post, "projects/\(projectID)/pipeline", token: server.rootToken, json: ["ref": "main"])
                #expect(ContinuousClock.now - started < .seconds(20))
                #expect(pipeline.status == .badRequest)
                #expect(pipeline.text.contains(index == 0 ? "is refused" : "took too long"))
            }
        }
    }
}
