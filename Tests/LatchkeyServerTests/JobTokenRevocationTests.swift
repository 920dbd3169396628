import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import Testing

@Suite("Job token kill switch")
struct JobTokenRevocationTests {
    static func jobToken(_ token: String) -> HTTPFields {
        var headers = HTTPFields()
        headers[HTTPField.Name("JOB-TOKEN")!] = token
        return headers
    }

    /// A running job claimed by a runner: the project id, the job id and its live token.
    static func runningJob(_ server: TestServer, _ client: any TestClientProtocol) async throws -> (projectID: Int64, jobID: Int, token: String) {
        let (projectID, runnerToken) = try await RunnerProtocolTests.setUp(server, client)
        let claimed = try await client.api(.post, "jobs/request", json: ["token": runnerToken])
        #expect(claimed.status == .created)
        return (projectID, try #require(claimed.object["id"] as? Int), try #require(claimed.object["token"] as? String))
    }

    @Test("a job revokes its own token: dead at once, the job canceled, its trace and the audit log say so", arguments: TestBackend.all)
    func selfRevocation(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (projectID, jobID, token) = try await Self.runningJob(server, client)
            #expect(try await client.api(.get, "job", headers: Self.jobToken(token)).status == .ok)
            let revoked = try await client.api(.post, "job/token/revoke", headers: Self.jobToken(token))
            #expect(revoked.status == .ok, "\(revoked.text)")
            #expect(revoked.object["job_id"] as? Int == jobID && revoked.object["status"] as? String == "canceled")
            #expect(try await client.api(.get, "job", headers: Self.jobToken(token)).status == .unauthorized)
            #expect(try await client.api(.post, "job/token/revoke", headers: Self.jobToken(token)).status == .unauthorized)
            let job = try await client.api(.get, "projects/\(projectID)/jobs/\(jobID)", token: server.rootToken)
            #expect(job.object["status"] as? String == "canceled")
            let trace = try await client.api(.get, "projects/\(projectID)/jobs/\(jobID)/trace", token: server.rootToken)
            #expect(trace.text.contains("this job's token was revoked by the job itself"), "\(trace.text)")
            #expect(!trace.text.contains(token))
            let audit = try await client.api(.get, "projects/\(projectID)/audit_events", token: server.rootToken)
            #expect(audit.text.contains("job_token_revoked"), "\(audit.text)")
        }
    }

    @Test("with a personal access token only a Maintainer of the job's project or an administrator may revoke; others learn nothing")
    func revocationByUsers() async throws {
        try await withTestServer { server, client in
            let (projectID, jobID, token) = try await Self.runningJob(server, client)
            #expect(try await client.api(.post, "job/token/revoke", json: ["job_id": jobID]).status == .unauthorized)
            let (stranger, strangerToken) = try await server.makeUser("stranger")
            _ = stranger
            #expect(try await client.api(.post, "job/token/revoke", token: strangerToken, json: ["job_id": jobID]).status == .notFound)
            let (developer, developerToken) = try await server.makeUser("developer")
            #expect(try await client.api(.post, "projects/\(projectID)/members", token: server.rootToken, json: ["user_id": developer.id, "access_level": 30]).status == .created)
            #expect(try await client.api(.post, "job/token/revoke", token: developerToken, json: ["job_id": jobID]).status == .forbidden)
            #expect(try await client.api(.post, "job/token/revoke", token: developerToken, json: [:]).status == .badRequest)
            #expect(try await client.api(.get, "job", headers: Self.jobToken(token)).status == .ok, "refusals leave the token alive")
            let (maintainer, maintainerToken) = try await server.makeUser("maintainer")
            #expect(try await client.api(.post, "projects/\(projectID)/members", token: server.rootToken, json: ["user_id": maintainer.id, "access_level": 40]).status == .created)
            #expect(try await client.api(.post, "job/token/revoke", token: maintainerToken, json: ["job_id": jobID]).status == .ok)
            #expect(try await client.api(.get, "job", headers: Self.jobToken(token)).status == .unauthorized)
            let again = try await client.api(.post, "job/token/revoke", token: server.rootToken, json: ["job_id": jobID])
            #expect(again.status == .conflict)
            let trace = try await client.api(.get, "projects/\(projectID)/jobs/\(jobID)/trace", token: server.rootToken)
            #expect(trace.text.contains("revoked by @maintainer"))
        }
    }
}
