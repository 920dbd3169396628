import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import Testing

@Suite("Runner protocol")
struct RunnerProtocolTests {
    static let ciFile = """
        stages: [build, test]
        variables:
          GREETING: hello
        build:
          stage: build
          script: echo build
        test:
          stage: test
          script: echo test
        """

    /// A project with one commit holding `ciFile`, a pipeline on it, and a registered runner's token.
    static func setUp(_ server: TestServer, _ client: any TestClientProtocol) async throws -> (projectID: Int64, runnerToken: String) {
        let created = try await client.api(.post, "projects", token: server.rootToken, json: ["name": "app"])
        let projectID = try #require(created.object["id"] as? Int)
        try GitFixtures.commit([".gitlab-ci.yml": ciFile], to: server.environment.repositories.path(projectID: Int64(projectID)))
        let pipeline = try await client.api(.post, "projects/\(projectID)/pipeline", token: server.rootToken, json: ["ref": "main"])
        #expect(pipeline.status == .created)
        let registrationToken = try await server.environment.registrationToken()
        let runner = try await client.api(.post, "runners", json: ["token": registrationToken, "description": "test runner"])
        #expect(runner.status == .created)
        return (Int64(projectID), try #require(runner.object["token"] as? String))
    }

    @Test("a runner registers only with the registration token, and verifies and unregisters with its own", arguments: TestBackend.all)
    func registration(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            _ = try await client.api(.get, "/-/readiness")
            let registrationToken = try await server.environment.registrationToken()
            #expect(try await client.api(.post, "runners", json: ["token": "glrtr-wrong"]).status == .forbidden)
            let runner = try await client.api(.post, "runners", json: ["token": registrationToken, "tag_list": "docker,linux"])
            #expect(runner.status == .created)
            let token = try #require(runner.object["token"] as? String)
            #expect(token.hasPrefix("glrt-"))
            #expect(try await client.api(.post, "runners/verify", json: ["token": token]).status == .ok)
            #expect(try await client.api(.delete, "runners", json: ["token": token]).status == .noContent)
            #expect(try await client.api(.post, "runners/verify", json: ["token": token]).status == .forbidden)
        }
    }

    @Test("a job is claimed once, its token works while it runs, its trace is masked, and finishing kills the token", arguments: TestBackend.all)
    func jobLifecycle(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (projectID, runnerToken) = try await Self.setUp(server, client)
            let claimed = try await client.api(.post, "jobs/request", json: ["token": runnerToken])
            #expect(claimed.status == .created)
            let jobID = try #require(claimed.object["id"] as? Int)
            let token = try #require(claimed.object["token"] as? String)
            #expect(token.hasPrefix("glcbt-"))
            #expect((claimed.object["git_info"] as? [String: Any])?["repo_url"] as? String == "http://gitlab-ci-token:\(token)@latchkey.test/root/app.git")
            let variables = (claimed.object["variables"] as? [[String: Any]] ?? []).reduce(into: [String: [String: Any]]()) { $0[$1["key"] as! String] = $1 }
            #expect(variables["CI_JOB_TOKEN"]?["value"] as? String == token)
            #expect(variables["CI_JOB_TOKEN"]?["masked"] as? Bool == true)
            #expect(variables["CI_JOB_TOKEN"]?["public"] as? Bool == false)
            #expect(variables["CI_PROJECT_PATH"]?["value"] as? String == "root/app")
            #expect(variables["GITLAB_USER_LOGIN"]?["value"] as? String == "root")
            #expect(variables["GREETING"]?["value"] as? String == "hello")
            #expect(variables["CI_JOB_NAME"]?["value"] as? String == "build")

            // The test stage's job waits for build: nothing else to claim.
            var headers = HTTPFields()
            headers[HTTPField.Name("JOB-TOKEN")!] = token
            let me = try await client.api(.get, "job", headers: headers)
            #expect(me.status == .ok)
            #expect(me.object["id"] as? Int == jobID)
            #expect((me.object["user"] as? [String: Any])?["username"] as? String == "root")

            // A runner that masks nothing: the server masks the token anyway, across PATCH boundaries.
            let leak = Array("token is \(token) done\n".utf8)
            let split = 15
            var patch = headers
            patch[.contentRange] = "0-\(split - 1)"
            let first = try await client.execute(uri: "/api/v4/jobs/\(jobID)/trace", method: .patch, headers: patch, body: .init(bytes: leak[..<split])) { $0 }
            #expect(first.status == .accepted)
            #expect(first.headers[HTTPField.Name("Range")!] == "0-\(split)")
            patch[.contentRange] = "0-3"
            let wrongOffset = try await client.execute(uri: "/api/v4/jobs/\(jobID)/trace", method: .patch, headers: patch, body: .init(bytes: leak[split...])) { $0 }
            #expect(wrongOffset.status == .rangeNotSatisfiable)
            patch[.contentRange] = "\(split)-\(leak.count - 1)"
            let second = try await client.execute(uri: "/api/v4/jobs/\(jobID)/trace", method: .patch, headers: patch, body: .init(bytes: leak[split...])) { $0 }
            #expect(second.status == .accepted)

            let done = try await client.api(.put, "jobs/\(jobID)", json: ["token": token, "state": "success", "exit_code": 0, "output": ["checksum": CRC32.checksum(leak), "bytesize": leak.count] as [String: any Sendable]])
            #expect(done.status == .ok)

            let trace = try await client.api(.get, "projects/\(projectID)/jobs/\(jobID)/trace", token: server.rootToken)
            #expect(trace.text == "token is [MASKED] done\n")
            #expect(!trace.text.contains(token))

            // Dead at once: the job API, the trace API and a second update all refuse it.
            #expect(try await client.api(.get, "job", headers: headers).status == .unauthorized)
            #expect(try await client.api(.put, "jobs/\(jobID)", json: ["token": token, "state": "running"]).status == .forbidden)
            let job = try await client.api(.get, "projects/\(projectID)/jobs/\(jobID)", token: server.rootToken)
            #expect(job.object["status"] as? String == "success")

            // The next stage became pending and gets a different token.
            let next = try await client.api(.post, "jobs/request", json: ["token": runnerToken])
            #expect(next.status == .created)
            #expect(next.object["token"] as? String != token)
            #expect((next.object["job_info"] as? [String: Any])?["name"] as? String == "test")
        }
    }

    @Test("canceling a running job tells the runner and its token dies when the runner reports")
    func cancel() async throws {
        try await withTestServer { server, client in
            let (projectID, runnerToken) = try await Self.setUp(server, client)
            let claimed = try await client.api(.post, "jobs/request", json: ["token": runnerToken])
            let jobID = try #require(claimed.object["id"] as? Int)
            let token = try #require(claimed.object["token"] as? String)
            let canceled = try await client.api(.post, "projects/\(projectID)/jobs/\(jobID)/cancel", token: server.rootToken)
            #expect(canceled.object["status"] as? String == "canceling")
            let keepAlive = try await client.api(.put, "jobs/\(jobID)", json: ["token": token, "state": "running"])
            #expect(keepAlive.headers[HTTPField.Name("Job-Status")!] == "canceling")
            let final = try await client.api(.put, "jobs/\(jobID)", json: ["token": token, "state": "failed", "failure_reason": "script_failure"])
            #expect(final.status == .ok)
            let job = try await client.api(.get, "projects/\(projectID)/jobs/\(jobID)", token: server.rootToken)
            #expect(job.object["status"] as? String == "canceled")
            var headers = HTTPFields()
            headers[HTTPField.Name("JOB-TOKEN")!] = token
            #expect(try await client.api(.get, "job", headers: headers).status == .unauthorized)
        }
    }

    @Test("GET /job without a job token answers 404 Job Not Found; a PAT or job token on other routes is handled as GitLab does")
    func currentJobWithoutToken() async throws {
        try await withTestServer { server, client in
            let response = try await client.api(.get, "job")
            #expect(response.status == .notFound)
            #expect(response.object["message"] as? String == "404 Job Not Found")
            var headers = HTTPFields()
            headers[HTTPField.Name("JOB-TOKEN")!] = "glcbt-made-up"
            #expect(try await client.api(.get, "job", headers: headers).status == .unauthorized)
            // A job token where none is accepted is ignored: the project list is what anonymous sees.
            #expect(try await client.api(.get, "projects", headers: headers).status == .ok)
        }
    }

    @Test("the long poll answers 204 with X-GitLab-Last-Update when there is no job, and 403 for a bad runner token")
    func noJob() async throws {
        try await withTestServer { server, client in
            let registrationToken = try await server.environment.registrationToken()
            let runner = try await client.api(.post, "runners", json: ["token": registrationToken])
            let token = try #require(runner.object["token"] as? String)
            let empty = try await client.api(.post, "jobs/request", json: ["token": token])
            #expect(empty.status == .noContent)
            #expect(empty.headers[HTTPField.Name("X-GitLab-Last-Update")!] != nil)
            #expect(try await client.api(.post, "jobs/request", json: ["token": "glrt-nope"]).status == .forbidden)
        }
    }

    @Test("masked variables must be at least 8 characters and one line")
    func maskedVariables() async throws {
        try await withTestServer { server, client in
            let created = try await client.api(.post, "projects", token: server.rootToken, json: ["name": "vars"])
            let id = try #require(created.object["id"] as? Int)
            let short = try await client.api(.post, "projects/\(id)/variables", token: server.rootToken, json: ["key": "SHORT", "value": "abc", "masked": true])
            #expect(short.status == .badRequest)
            #expect(short.text.contains("at least 8 characters"))
            let lines = try await client.api(.post, "projects/\(id)/variables", token: server.rootToken, json: ["key": "LINES", "value": "abcdefgh\nijkl", "masked": true])
            #expect(lines.status == .badRequest)
            let good = try await client.api(.post, "projects/\(id)/variables", token: server.rootToken, json: ["key": "SECRET", "value": "s3cr3t-value-123", "masked": true])
            #expect(good.status == .created)
            #expect(try await client.api(.get, "projects/\(id)/variables/SECRET", token: server.rootToken).object["masked"] as? Bool == true)
        }
    }
}
