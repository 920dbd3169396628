import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyStore
import LatchkeyTestSupport
import Testing

/// 401 only for credentials that were checked and found wrong; 503 when their lookup itself failed (issue 10).
@Suite("Credential checks")
struct CredentialCheckTests {
    @Test("under 600 concurrent requests a wrong token is always 401 and a good one always 200, never 503", arguments: TestBackend.all)
    func badTokensStayRefusedUnderLoad(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, good) = try await server.makeUser("alice")
            let project = try await client.api(.post, "projects", token: good, json: ["name": "app"])
            try #require(project.status == .created)
            let job = try await client.runningJob(server, projectID: project.id, userToken: good)
            let finished = SecretToken.mint(.jobToken).value
            enum Kind: Sendable { case goodToken, wrongToken, goodJob, wrongJob }
            let statuses = try await withThrowingTaskGroup(of: (Kind, HTTPResponse.Status).self) { group in
                for index in 0..<600 {
                    group.addTask {
                        switch index % 4 {
                        case 0: return (.goodToken, try await client.api(.get, "user", token: good).status)
                        case 1: return (.wrongToken, try await client.api(.get, "user", token: SecretToken.mint(.personalAccess).value).status)
                        case 2: return (.goodJob, try await client.api(.get, "job", headers: job.headers).status)
                        default: return (.wrongJob, try await client.api(.get, "job", headers: [HTTPField.Name("JOB-TOKEN")!: finished]).status)
                        }
                    }
                }
                return try await group.reduce(into: [(Kind, HTTPResponse.Status)]()) { $0.append($1) }
            }
            #expect(statuses.count == 600)
            #expect(statuses.filter { $0.0 == .goodToken }.allSatisfy { $0.1 == .ok })
            #expect(statuses.filter { $0.0 == .goodJob }.allSatisfy { $0.1 == .ok })
            #expect(statuses.filter { $0.0 == .wrongToken }.allSatisfy { $0.1 == .unauthorized })
            #expect(statuses.filter { $0.0 == .wrongJob }.allSatisfy { $0.1 == .unauthorized })
        }
    }

    /// SQLite's busy timeout runs out while another process holds the write lock (a backup, an admin command): the failed-password
    /// slot cannot be written, so the password is never checked.
    @Test("on SQLite, a git password the database cannot check while another process holds the write lock is 503, not the 401 challenge")
    func lockedSQLite() async throws {
        try await withTestServer(.sqlite) { server, client in
            let path = server.environment.settings.dataDirectory.appendingPathComponent("test.sqlite3").path
            let other = try await Database.sqlite(path: path, logger: server.environment.logger)
            let headers: HTTPFields = [.authorization: "Basic " + Data("root:root-password".utf8).base64EncodedString()]
            let gitPath = "/root/app.git/info/refs?service=git-upload-pack"
            let outcome = try await other.transaction { db in
                try await db.raw("UPDATE users SET name = name WHERE id = 1").run()
                return try await client.api(.get, gitPath, headers: headers)
            }
            try await other.close()
            #expect(outcome.status == .serviceUnavailable, "\(outcome.status) \(outcome.text)")
            #expect(outcome.headers[.retryAfter] == "5")
            #expect(outcome.headers[.wwwAuthenticate] == nil)
            // Once the lock is gone the same password is checked, and a wrong one is refused with git's challenge.
            let wrong: HTTPFields = [.authorization: "Basic " + Data("root:wrong".utf8).base64EncodedString()]
            let refused = try await client.api(.get, gitPath, headers: wrong)
            #expect(refused.status == .unauthorized)
            #expect(refused.headers[.wwwAuthenticate] != nil)
        }
    }
}
