import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import NIOCore
import Testing

/// The automatic kill switch: a live job token or personal access token found in a push, a generic package, a release or an
/// artifact's metadata is revoked, its job canceled, and the content refused without echoing the token.
@Suite("Leaked token revocation")
struct LeakedTokenRevocationTests {
    /// A raw answer's status and body text.
    struct Answer: Sendable {
        var status: HTTPResponse.Status
        var text: String
    }

    static func base64(_ text: String) -> String { Data(text.utf8).base64EncodedString() }

    /// A running job of a fresh project `app` owned by alice, alice's token, and a personal access token of bob's.
    static func setUp(_ server: TestServer, _ client: any TestClientProtocol) async throws -> (job: RunningJob, alice: String, bob: String) {
        let (_, alice) = try await server.makeUser("alice")
        let (_, bob) = try await server.makeUser("bob")
        let project = try await client.createProject(["name": "app"], token: alice)
        let job = try await client.runningJob(server, projectID: project.id, userToken: alice)
        return (job, alice, bob)
    }

    /// Checks that the job is canceled with the leak line in its trace, its token dead, and the trace free of it.
    static func expectRevoked(_ job: RunningJob, surface: String, _ server: TestServer, _ client: any TestClientProtocol, sourceLocation: SourceLocation = #_sourceLocation)
        async throws
    {
        #expect(try await client.api(.get, "job", headers: job.headers).status == .unauthorized, sourceLocation: sourceLocation)
        let shown = try await client.api(.get, "projects/\(job.projectID)/jobs/\(job.jobID)", token: server.rootToken)
        #expect(shown.object["status"] as? String == "canceled", sourceLocation: sourceLocation)
        let trace = try await client.api(.get, "projects/\(job.projectID)/jobs/\(job.jobID)/trace", token: server.rootToken)
        #expect(trace.text.contains("this job's token appeared in a \(surface) and was revoked"), "\(trace.text)", sourceLocation: sourceLocation)
        #expect(!trace.text.contains(job.token), sourceLocation: sourceLocation)
        let audit = try await client.api(.get, "projects/\(job.projectID)/audit_events", token: server.rootToken)
        #expect(audit.text.contains("job_token_revoked") && audit.text.contains("leaked_token_revoked"), "\(audit.text)", sourceLocation: sourceLocation)
        #expect(!audit.text.contains(job.token), sourceLocation: sourceLocation)
    }

    @Test("a generic package holding a job token (base64) is refused without the token in the answer; the token dies, the job is canceled", arguments: TestBackend.all)
    func genericPackage(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (job, alice, bob) = try await Self.setUp(server, client)
            let path = "projects/\(job.projectID)/packages/generic/tool/1.0.0/config.txt"
            let innocent = try await client.execute(
                uri: "/api/v4/\(path)", method: .put, headers: [HTTPField.Name("PRIVATE-TOKEN")!: alice],
                body: ByteBuffer(string: "token: glpat-\(String(repeating: "x", count: 30)) (a dead one)\n")) { $0.status }
            #expect(innocent == .created, "a token-shaped string that is no live token is kept")
            let upload = try await client.execute(
                uri: "/api/v4/\(path)", method: .put, headers: [HTTPField.Name("PRIVATE-TOKEN")!: alice],
                body: ByteBuffer(string: "CI_JOB_TOKEN=\(Self.base64(job.token + "\n"))\n")) { Answer(status: $0.status, text: String(buffer: $0.body)) }
            #expect(upload.status == .badRequest)
            #expect(upload.text.contains("live access token") && !upload.text.contains(job.token), "\(upload.text)")
            try await Self.expectRevoked(job, surface: "generic package upload", server, client)
            // The same for a personal access token, from someone else's project.
            #expect(try await client.api(.get, "user", token: bob).status == .ok)
            let leaked = try await client.execute(
                uri: "/api/v4/\(path.replacingOccurrences(of: "1.0.0", with: "1.0.1"))", method: .put, headers: [HTTPField.Name("PRIVATE-TOKEN")!: alice],
                body: ByteBuffer(string: "curl -H 'PRIVATE-TOKEN: \(bob)'\n")) { $0.status }
            #expect(leaked == .badRequest)
            #expect(try await client.api(.get, "user", token: bob).status == .unauthorized)
            let packages = try await client.api(.get, "projects/\(job.projectID)/packages", token: alice)
            #expect(packages.array.count == 1, "only the innocent upload was kept: \(packages.text)")
        }
    }

    @Test("a release whose description holds a personal access token (URL-encoded) is not made and the token is revoked", arguments: TestBackend.all)
    func release(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (job, alice, bob) = try await Self.setUp(server, client)
            let encoded = bob.utf8.map { String(format: "%%%02X", $0) }.joined()
            let refused = try await client.api(
                .post, "projects/\(job.projectID)/releases", token: alice,
                json: ["tag_name": "v1", "ref": "main", "description": "download: https://x.example/?private_token=\(encoded)"])
            #expect(refused.status == .badRequest && !refused.text.contains(bob), "\(refused.status) \(refused.text)")
            #expect(try await client.api(.get, "user", token: bob).status == .unauthorized)
            #expect(try await client.api(.get, "projects/\(job.projectID)/releases/v1", token: alice).status == .notFound)
            let withJobToken = try await client.api(
                .post, "projects/\(job.projectID)/releases", token: alice, json: ["tag_name": "v2", "ref": "main", "name": "built with \(job.token)"])
            #expect(withJobToken.status == .badRequest)
            try await Self.expectRevoked(job, surface: "release", server, client)
            let fine = try await client.api(.post, "projects/\(job.projectID)/releases", token: alice, json: ["tag_name": "v3", "ref": "main", "description": "notes"])
            #expect(fine.status == .created, "\(fine.text)")
            // A release link whose URL carries a personal access token: refused, the token revoked, no link kept.
            let (_, carol) = try await server.makeUser("carol")
            let link = try await client.api(
                .post, "projects/\(job.projectID)/releases/v3/assets/links", token: alice,
                json: ["name": "binary", "url": "https://downloads.example.com/tool?private_token=\(carol)"])
            #expect(link.status == .badRequest && !link.text.contains(carol), "\(link.status) \(link.text)")
            #expect(try await client.api(.get, "user", token: carol).status == .unauthorized)
            #expect(try await client.api(.get, "projects/\(job.projectID)/releases/v3/assets/links", token: alice).array.isEmpty)
        }
    }

    @Test("an artifact upload whose file name holds the job's own token (hex) is refused and the job canceled", arguments: TestBackend.all)
    func artifactMetadata(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (job, _, _) = try await Self.setUp(server, client)
            let hex = job.token.utf8.map { String(format: "%02x", $0) }.joined()
            let boundary = "latchkeyboundary"
            let body = "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(hex).zip\"\r\nContent-Type: application/zip\r\n\r\nPK\r\n--\(boundary)--\r\n"
            let upload = try await client.execute(
                uri: "/api/v4/jobs/\(job.jobID)/artifacts", method: .post,
                headers: [HTTPField.Name("JOB-TOKEN")!: job.token, .contentType: "multipart/form-data; boundary=\(boundary)"], body: ByteBuffer(string: body)
            ) { Answer(status: $0.status, text: String(buffer: $0.body)) }
            #expect(upload.status == .badRequest, "\(upload.text)")
            #expect(!upload.text.contains(job.token) && !upload.text.contains(hex))
            try await Self.expectRevoked(job, surface: "job artifact's metadata", server, client)
        }
    }

    @Test("an artifact upload authenticated with ?token= is not a leak of that token: stored, and the job still runs", arguments: TestBackend.all)
    func queryCredentialIsNoLeak(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (job, _, _) = try await Self.setUp(server, client)
            let boundary = "latchkeyboundary"
            let body = "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"artifacts.zip\"\r\nContent-Type: application/zip\r\n\r\nPK\r\n--\(boundary)--\r\n"
            let upload = try await client.execute(
                uri: "/api/v4/jobs/\(job.jobID)/artifacts?token=\(job.token)&artifact_type=archive", method: .post,
                headers: [.contentType: "multipart/form-data; boundary=\(boundary)"], body: ByteBuffer(string: body)
            ) { Answer(status: $0.status, text: String(buffer: $0.body)) }
            #expect(upload.status == .created, "\(upload.text)")
            #expect(try await client.api(.get, "job", headers: [HTTPField.Name("JOB-TOKEN")!: job.token]).status == .ok, "the token still works")
        }
    }

    /// A receive-pack request body for `old..new` on `ref`, as git sends it (with side-band, so hook messages come back).
    static func receivePackBody(work: URL, old: String, new: String, ref: String = "refs/heads/main") throws -> ByteBuffer {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("GIT_") }
        environment["PATH"] = environment["PATH"] ?? "/usr/bin:/bin"
        let (status, pack) = try Subprocess.run(
            ["/bin/sh", "-c", "printf '%s\\n^%s\\n' \"$1\" \"$2\" | git pack-objects --revs --stdout -q", "sh", new, old], environment: environment,
            directory: work.path)
        guard status == 0 else { throw CancellationError() }
        let line = "\(old) \(new) \(ref)\0report-status side-band-64k agent=latchkey-test\n"
        var buffer = ByteBuffer(string: String(format: "%04x", line.utf8.count + 4) + line + "0000")
        buffer.writeBytes(pack)
        return buffer
    }

    @Test("a push whose commit holds the job's token, or a personal access token in its message, is refused by the hook; nothing lands", arguments: TestBackend.all)
    func gitPush(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (job, alice, bob) = try await Self.setUp(server, client)
            let bare = server.environment.repositories.path(projectID: job.projectID)
            let work = FileManager.default.temporaryDirectory.appendingPathComponent("latchkey-leak-\(UUID().uuidString)", isDirectory: true)
            defer { try? FileManager.default.removeItem(at: work) }
            try GitFixtures.git(["clone", "--quiet", bare.path, work.path])
            let old = try GitFixtures.git(["rev-parse", "HEAD"], in: work).trimmingCharacters(in: .whitespacesAndNewlines)
            try Data("deploy_token = \"\(job.token)\"\n".utf8).write(to: work.appendingPathComponent("deploy.cfg"))
            try GitFixtures.git(["add", "deploy.cfg"], in: work)
            try GitFixtures.git(["commit", "--quiet", "-m", "add deploy config"], in: work)
            let new = try GitFixtures.git(["rev-parse", "HEAD"], in: work).trimmingCharacters(in: .whitespacesAndNewlines)
            let basic = "Basic " + Self.base64("alice:\(alice)")
            let headers: HTTPFields = [.authorization: basic, .contentType: "application/x-git-receive-pack-request"]
            let path = "/alice/app.git/git-receive-pack"
            let refused = try await client.execute(uri: path, method: .post, headers: headers, body: try Self.receivePackBody(work: work, old: old, new: new)) { Answer(status: $0.status, text: String(buffer: $0.body)) }
            #expect(refused.text.contains("GitLab: The push contains a live access token (deploy.cfg in the pushed commits)"), "\(refused.text)")
            #expect(refused.text.contains("ng refs/heads/main"), "\(refused.text)")
            #expect(!refused.text.contains(job.token))
            #expect(try GitFixtures.git(["rev-parse", "main"], in: bare).trimmingCharacters(in: .whitespacesAndNewlines) == old, "nothing landed")
            try await Self.expectRevoked(job, surface: "git push", server, client)

            // A personal access token, base64 in a commit message, of a user who has nothing to do with the project.
            try GitFixtures.git(["reset", "--quiet", "--hard", old], in: work)
            try GitFixtures.git(["commit", "--quiet", "--allow-empty", "-m", "ci: auth \(Self.base64("bob:" + bob))"], in: work)
            let second = try GitFixtures.git(["rev-parse", "HEAD"], in: work).trimmingCharacters(in: .whitespacesAndNewlines)
            let refusedAgain = try await client.execute(uri: path, method: .post, headers: headers, body: try Self.receivePackBody(work: work, old: old, new: second)) { Answer(status: $0.status, text: String(buffer: $0.body)) }
            #expect(refusedAgain.text.contains("live access token (commit \(second.prefix(12)))"), "\(refusedAgain.text)")
            #expect(try await client.api(.get, "user", token: bob).status == .unauthorized)

            // A token-shaped string that is no live token is pushed like anything else.
            try GitFixtures.git(["reset", "--quiet", "--hard", old], in: work)
            try GitFixtures.git(["commit", "--quiet", "--allow-empty", "-m", "docs: tokens look like glpat-\(String(repeating: "z", count: 26))"], in: work)
            let third = try GitFixtures.git(["rev-parse", "HEAD"], in: work).trimmingCharacters(in: .whitespacesAndNewlines)
            let accepted = try await client.execute(uri: path, method: .post, headers: headers, body: try Self.receivePackBody(work: work, old: old, new: third)) { Answer(status: $0.status, text: String(buffer: $0.body)) }
            #expect(accepted.text.contains("ok refs/heads/main"), "\(accepted.text)")
            #expect(try GitFixtures.git(["rev-parse", "main"], in: bare).trimmingCharacters(in: .whitespacesAndNewlines) == third)
        }
    }
}
