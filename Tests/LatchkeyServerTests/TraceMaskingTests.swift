import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
@testable import LatchkeyServer
import LatchkeyTestSupport
import Testing

/// The server's own masking of incoming traces: across PATCH requests, over escape sequences, and on the web page.
@Suite("Server-side trace masking")
struct TraceMaskingTests {
    /// Sends `parts` as consecutive trace PATCHes of job `jobID`, as a runner that masks nothing would.
    static func patch(_ client: any TestClientProtocol, jobID: Int, token: String, _ parts: [[UInt8]]) async throws {
        var offset = 0
        for part in parts {
            var headers = HTTPFields()
            headers[HTTPField.Name("JOB-TOKEN")!] = token
            headers[.contentRange] = "\(offset)-\(offset + part.count - 1)"
            let response = try await client.execute(uri: "/api/v4/jobs/\(jobID)/trace", method: .patch, headers: headers, body: .init(bytes: part)) { $0 }
            #expect(response.status == .accepted)
            offset += part.count
        }
    }

    @Test("a token run split between two PATCHes, and a job token cut by a colour code, are masked whole; the web page shows no more than the API")
    func acrossRequestsAndEscapes() async throws {
        try await withTestServer(.sqlite) { server, client in
            let (projectID, runnerToken) = try await RunnerProtocolTests.setUp(server, client)
            let claimed = try await client.api(.post, "jobs/request", json: ["token": runnerToken])
            let jobID = try #require(claimed.object["id"] as? Int)
            let token = try #require(claimed.object["token"] as? String)
            let body = String(token.dropFirst("glcbt-".count))
            let cut = token.index(token.startIndex, offsetBy: 3)
            let text = "pat glpat-AAAABBBBCCCCDDDDEEEE end\nci \(token[..<cut])\u{1B}[0m\(token[cut...]) done\nbody \(body) done\n"
            let bytes = Array(text.utf8)
            // The first request ends inside the glpat- run, the second inside the job token.
            let first = "pat glpat-AAAABBBB".utf8.count
            let second = text.utf8.count - " done\nbody \(body) done\n".utf8.count - 10
            let compiledBefore = server.environment.traceMaskingRules.compilations
            try await Self.patch(client, jobID: jobID, token: token, [Array(bytes[..<first]), Array(bytes[first..<second]), Array(bytes[second...])])
            #expect(server.environment.traceMaskingRules.count == 1)
            #expect(server.environment.traceMaskingRules.compilations - compiledBefore == 1, "the job's rules are compiled once and reused by every PATCH")

            let done = try await client.api(.put, "jobs/\(jobID)", json: ["token": token, "state": "success", "exit_code": 0, "output": ["checksum": CRC32.checksum(bytes), "bytesize": bytes.count] as [String: any Sendable]])
            #expect(done.status == .ok)
            let trace = try await client.api(.get, "projects/\(projectID)/jobs/\(jobID)/trace", token: server.rootToken).text
            #expect(trace == "pat glpat-[MASKED] end\nci [MASKED] done\nbody [MASKED] done\n")

            let browser = WebTestBrowser(client)
            try await browser.signIn("root", password: "root-password")
            let page = try await browser.get("/root/app/-/jobs/\(jobID)").text
            #expect(page.contains("ci [MASKED] done"))
            #expect(page.contains("pat glpat-[MASKED] end"))
            for secret in [body, String(body.prefix(12)), String(body.suffix(12)), "DDDDEEEE"] {
                #expect(!trace.contains(secret))
                #expect(!page.contains(secret), "the web page shows \(secret)")
            }
        }
    }

    @Test("the secrets masked are read at the claim: a variable rotated while the job runs stays masked; another instance reads the same set", arguments: TestBackend.all)
    func secretsOfTheClaim(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (projectID, runnerToken) = try await RunnerProtocolTests.setUp(server, client)
            let created = try await client.api(
                .post, "projects/\(projectID)/variables", token: server.rootToken, json: ["key": "DEPLOY_KEY", "value": "old-secret-value-1234", "masked": true])
            #expect(created.status == .created, "\(created.text)")
            let claimed = try await client.api(.post, "jobs/request", json: ["token": runnerToken])
            let jobID = try #require(claimed.object["id"] as? Int)
            let token = try #require(claimed.object["token"] as? String)
            // What an instance that did not claim the job would compile is what the claim primed: a stored masker state resumes there.
            let job = try #require(try await server.store.jobs.find(id: Int64(jobID)))
            let primed = try #require(server.environment.traceMaskingRules.known(jobID: Int64(jobID)))
            #expect(primed.rules == nil, "compiled only when the first trace request needs them")
            #expect(primed.secrets == Array(Set(try await server.environment.traceSecrets(for: job))).sorted())
            #expect(primed.secrets.contains(token) && primed.secrets.contains(runnerToken) && primed.secrets.contains("old-secret-value-1234"))

            let rotated = try await client.api(.put, "projects/\(projectID)/variables/DEPLOY_KEY", token: server.rootToken, json: ["value": "new-secret-value-5678"])
            #expect(rotated.status == .ok, "\(rotated.text)")
            // "!" is in no encoding's alphabet, so what is held back (it depends on the random tokens' variants) starts after it.
            let first = Array("held old-secret-value-1234 and \(runnerToken) h!ere\n".utf8)
            try await Self.patch(client, jobID: jobID, token: token, [first])
            // As on an instance that did not claim the job (or after a restart): the secrets come from the database, once.
            server.environment.traceMaskingRules.forget(jobID: Int64(jobID))
            var headers = HTTPFields()
            headers[HTTPField.Name("JOB-TOKEN")!] = token
            let line = Array("now new-secret-value-5678 \(token) end\n".utf8)
            headers[.contentRange] = "\(first.count)-\(first.count + line.count - 1)"
            let second = try await client.execute(uri: "/api/v4/jobs/\(jobID)/trace", method: .patch, headers: headers, body: .init(bytes: line)) { $0 }
            #expect(second.status == .accepted)
            let trace = try await client.api(.get, "projects/\(projectID)/jobs/\(jobID)/trace", token: server.rootToken).text
            // The rotation changed the rules between the two requests, so what the first held back (it could begin an encoded
            // secret) is masked rather than trusted to rules that never saw it.
            #expect(trace.hasPrefix("held [MASKED] and [MASKED] h!"), "\(trace)")
            #expect(trace.contains("now [MASKED] [MASKED]"), "\(trace)")
            for secret in ["old-secret", "new-secret", runnerToken, token] { #expect(!trace.contains(secret)) }
        }
    }

    @Test("a job's cached rules go once it ends any way: the reaper's pass drops those of jobs no longer active, never one primed meanwhile")
    func rulesOfEndedJobsGo() async throws {
        try await withTestServer(.sqlite) { server, client in
            let (projectID, runnerToken) = try await RunnerProtocolTests.setUp(server, client)
            let claimed = try await client.api(.post, "jobs/request", json: ["token": runnerToken])
            let jobID = try #require(claimed.object["id"] as? Int64)
            let rules = server.environment.traceMaskingRules
            #expect(rules.known(jobID: jobID) != nil)
            let canceled = try await client.api(.post, "projects/\(projectID)/jobs/\(jobID)/cancel", token: server.rootToken)
            #expect(canceled.status == .created, "\(canceled.text)")
            // Canceled, so "canceling" until its runner reports: still active, still masked.
            await JobReaper(environment: server.environment, queue: JobQueue()).reap(now: Date())
            #expect(rules.known(jobID: jobID) != nil, "a canceling job still sends its trace")
            _ = try await server.store.jobs.finish(jobID: jobID, status: .canceled, failureReason: nil, exitCode: nil)
            rules.prime(jobID: 999_999, secrets: ["primed-after-the-list"])
            let mark = rules.mark()
            rules.prime(jobID: 999_998, secrets: ["primed-after-the-mark"])
            rules.retain([], usedBefore: mark)
            #expect(rules.known(jobID: 999_999) == nil && rules.known(jobID: 999_998) != nil)
            await JobReaper(environment: server.environment, queue: JobQueue()).reap(now: Date())
            #expect(rules.known(jobID: jobID) == nil, "an ended job's rules are not kept")
        }
    }

    @Test("the web page masks again what stripping escapes and section markers would join")
    func webPageMasksStrippedText() async throws {
        try await withTestServer(.sqlite) { server, client in
            let (projectID, runnerToken) = try await RunnerProtocolTests.setUp(server, client)
            let claimed = try await client.api(.post, "jobs/request", json: ["token": runnerToken])
            let jobID = try #require(claimed.object["id"] as? Int64)
            let token = try #require(claimed.object["token"] as? String)
            // Written straight to the store, as an older server might have left it: the pieces only meet once markers are stripped.
            let stored = "x glc\u{1B}[0mbt-\u{1B}[1mAbCdEfGh\u{1B}[0m y\nz glp" + "section_start:1700000000:step\r\u{1B}[0K" + "at-QwErTyUiOp y\n"
            try server.environment.traces.append(jobID: jobID, Array(stored.utf8))
            let browser = WebTestBrowser(client)
            try await browser.signIn("root", password: "root-password")
            let page = try await browser.get("/root/app/-/jobs/\(jobID)").text
            #expect(!page.contains("AbCdEfGh"))
            #expect(!page.contains("QwErTyUiOp"))
            #expect(page.contains("glcbt-[MASKED] y"))
            _ = (projectID, token)
        }
    }
}
