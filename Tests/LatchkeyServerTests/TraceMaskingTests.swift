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
