import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import NIOCore
import Testing

/// Inputs that once crashed the server or answered 5xx (issue 10), and the runner protocol edges of issue 19.
@Suite("Hostile input")
struct HostileInputTests {
    static func jobHeaders(_ token: String) -> HTTPFields {
        var headers = HTTPFields()
        headers[HTTPField.Name("JOB-TOKEN")!] = token
        return headers
    }

    static func patchTrace(_ client: any TestClientProtocol, jobID: Int64, token: String, range: String?, body: [UInt8]) async throws -> HTTPResponse.Status {
        var headers = jobHeaders(token)
        if let range { headers[.contentRange] = range }
        return try await client.execute(uri: "/api/v4/jobs/\(jobID)/trace", method: .patch, headers: headers, body: ByteBuffer(bytes: body)) { $0.status }
    }

    static func upload(
        _ client: any TestClientProtocol, jobID: Int64, token: String, body: [UInt8], boundary: String = "b", query: String = "artifact_type=archive&artifact_format=zip"
    ) async throws -> (status: HTTPResponse.Status, text: String) {
        var headers = jobHeaders(token)
        headers[.contentType] = "multipart/form-data; boundary=\(boundary)"
        return try await client.execute(uri: "/api/v4/jobs/\(jobID)/artifacts?\(query)", method: .post, headers: headers, body: ByteBuffer(bytes: body)) {
            ($0.status, String(buffer: $0.body))
        }
    }

    static func filePart(_ contents: String, boundary: String = "b") -> [UInt8] {
        Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"artifacts.zip\"\r\n\r\n\(contents)\r\n--\(boundary)--\r\n".utf8)
    }

    @Test("a trace PATCH with a malformed Content-Range answers 400, and the job's trace still takes a good one")
    func malformedContentRange() async throws {
        try await withTestServer { server, client in
            let fixture = try await JobTokenFixture(server, client)
            let job = try await fixture.runningJob(try await fixture.project("app"))
            for range in ["0-/", "-", "", "0-", "bytes", "a-b", "-1-3", "0-99999999999999999999", "5-2", "0-1-2"] {
                #expect(try await Self.patchTrace(client, jobID: job.id, token: job.token, range: range, body: Array("x".utf8)) == .badRequest, "\(range)")
            }
            #expect(try await Self.patchTrace(client, jobID: job.id, token: job.token, range: nil, body: Array("x".utf8)) == .badRequest)
            #expect(try await Self.patchTrace(client, jobID: job.id, token: job.token, range: "3-3", body: Array("x".utf8)) == .rangeNotSatisfiable)
            #expect(try await Self.patchTrace(client, jobID: job.id, token: job.token, range: "0-2", body: Array("abc".utf8)) == .accepted)
            #expect(try await Self.patchTrace(client, jobID: job.id, token: job.token, range: "bytes 3-4/*", body: Array("de".utf8)) == .accepted)
        }
    }

    @Test("a multipart upload whose part has no headers answers 400, and so does every malformed body")
    func malformedMultipart() async throws {
        try await withTestServer { server, client in
            let fixture = try await JobTokenFixture(server, client)
            let job = try await fixture.runningJob(try await fixture.project("app"))
            let empty = try await Self.upload(client, jobID: job.id, token: job.token, body: Array("--b\r\n\r\nx\r\n--b--".utf8))
            #expect(empty.status == .badRequest)
            var generator = SystemRandomNumberGenerator()
            let valid = Self.filePart("PK-not-really-a-zip")
            for round in 0..<150 {
                var body = valid
                for _ in 0...(round % 5) {
                    let at = Int.random(in: 0..<body.count, using: &generator)
                    if Bool.random(using: &generator) { body.remove(at: at) } else { body[at] = UInt8.random(in: 0...255, using: &generator) }
                }
                let answer = try await Self.upload(client, jobID: job.id, token: job.token, body: body)
                #expect(answer.status.code < 500, "\(answer.status) for \(String(decoding: body, as: UTF8.self).debugDescription)")
            }
            // The job still uploads a good archive.
            #expect(try await Self.upload(client, jobID: job.id, token: job.token, body: valid).status == .created)
        }
    }

    @Test("API parameters in a malformed multipart body answer 400, not 500")
    func malformedMultipartParameters() async throws {
        try await withTestServer { server, client in
            var headers = HTTPFields()
            headers[HTTPField.Name("PRIVATE-TOKEN")!] = server.rootToken
            headers[.contentType] = "multipart/form-data; boundary=b"
            for body in ["--b\r\n\r\nx\r\n--b--", "--b\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\napp", "--b--"] {
                let status = try await client.execute(uri: "/api/v4/projects", method: .post, headers: headers, body: ByteBuffer(string: body)) { $0.status }
                #expect(status == .badRequest, "\(body.debugDescription)")
            }
            let good = "--b\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\napp\r\n--b--\r\n"
            #expect(try await client.execute(uri: "/api/v4/projects", method: .post, headers: headers, body: ByteBuffer(string: good)) { $0.status } == .created)
        }
    }

    @Test("an absurd expire_in on the upload is clamped instead of crashing, and `+` in the query reads as a space (issue 19)")
    func absurdAndSpacedExpiry() async throws {
        try await withTestServer { server, client in
            let fixture = try await JobTokenFixture(server, client)
            let project = try await fixture.project("app")
            let first = try await fixture.runningJob(project)
            let absurd = try await Self.upload(
                client, jobID: first.id, token: first.token, body: Self.filePart("zip"), query: "artifact_type=archive&artifact_format=zip&expire_in=9300000000000000")
            #expect(absurd.status == .created, "\(absurd.text)")
            let farAway = try #require(try await server.store.artifacts.archive(jobID: first.id)?.expireAt)
            #expect(farAway.timeIntervalSinceNow > 900 * 365 * 86400)
            let years = try await Self.upload(client, jobID: first.id, token: first.token, body: Self.filePart("zip"), query: "expire_in=300000000+years")
            #expect(years.status == .created, "\(years.text)")

            let spaced = try await Self.upload(client, jobID: first.id, token: first.token, body: Self.filePart("zip"), query: "expire_in=1+week")
            #expect(spaced.status == .created, "\(spaced.text)")
            let week = try #require(try await server.store.artifacts.archive(jobID: first.id)?.expireAt)
            #expect(abs(week.timeIntervalSinceNow - 7 * 86400) < 120)
            #expect(try await Self.upload(client, jobID: first.id, token: first.token, body: Self.filePart("zip"), query: "expire_in=soon").status == .badRequest)
        }
    }

    @Test("a pipeline whose artifacts expire in 300000000 years is created, and its job carries the text to the runner")
    func absurdExpiryInCIFile() async throws {
        try await withTestServer { server, client in
            let created = try await client.createProject(["name": "app"], token: server.rootToken)
            try GitFixtures.commit(
                [".gitlab-ci.yml": "build:\n  script: echo\n  artifacts:\n    paths: [out]\n    expire_in: 300000000 years\n"],
                to: server.environment.repositories.path(projectID: created.id))
            let pipeline = try await client.api(.post, "projects/\(created.id)/pipeline", token: server.rootToken, json: ["ref": "main"])
            #expect(pipeline.status == .created, "\(pipeline.text)")
            let registration = try await server.environment.registrationToken()
            let runner = try await client.api(.post, "runners", json: ["token": registration])
            let claimed = try await client.api(.post, "jobs/request", json: ["token": try #require(runner.object["token"] as? String)])
            let artifacts = try #require(claimed.object["artifacts"] as? [[String: Any]])
            #expect(artifacts.first?["expire_in"] as? String == "300000000 years")
        }
    }

    @Test("a checksum mismatch on the final update answers 200, ends the job, and the dead token can neither PATCH nor PUT (issue 19)")
    func checksumMismatchEndsTheJob() async throws {
        try await withTestServer { server, client in
            let fixture = try await JobTokenFixture(server, client)
            let project = try await fixture.project("app")
            let job = try await fixture.runningJob(project)
            #expect(try await Self.patchTrace(client, jobID: job.id, token: job.token, range: "0-4", body: Array("hello".utf8)) == .accepted)
            let final = try await client.api(
                .put, "jobs/\(job.id)", json: ["token": job.token, "state": "success", "output": ["checksum": "crc32:00000000", "bytesize": 99] as [String: any Sendable]])
            #expect(final.status == .ok)
            #expect(final.header("Job-Status") == "success")
            #expect(try await server.store.jobs.find(id: job.id)?.status == .success)
            #expect(try await Self.patchTrace(client, jobID: job.id, token: job.token, range: "5-5", body: Array("x".utf8)) == .forbidden)
            #expect(try await client.api(.put, "jobs/\(job.id)", json: ["token": job.token, "state": "success"]).status == .forbidden)
            #expect(try await client.api(.put, "jobs/\(job.id)", json: ["token": job.token, "state": "running"]).status == .forbidden)
            let trace = try await client.api(.get, "projects/\(project)/jobs/\(job.id)/trace", token: server.rootToken)
            #expect(trace.text == "hello")
        }
    }

    @Test("oversized GraphQL, web form and trace bodies answer 413")
    func oversizedBodies() async throws {
        try await withTestServer { server, client in
            let big = String(repeating: "a", count: (1 << 20) + 10)
            var json = HTTPFields()
            json[.contentType] = "application/json"
            let graphql = try await client.execute(uri: "/api/graphql", method: .post, headers: json, body: ByteBuffer(string: "{\"query\":\"\(big)\"}")) { $0.status }
            #expect(graphql == .contentTooLarge)
            var form = HTTPFields()
            form[.contentType] = "application/x-www-form-urlencoded"
            let web = try await client.execute(uri: "/users/sign_in", method: .post, headers: form, body: ByteBuffer(string: "user%5Blogin%5D=" + big)) { $0.status }
            #expect(web == .contentTooLarge)
            let api = try await client.api(.post, "projects", token: server.rootToken, form: "name=" + big)
            #expect(api.status == .contentTooLarge)

            let fixture = try await JobTokenFixture(server, client)
            let job = try await fixture.runningJob(try await fixture.project("app"))
            let huge = [UInt8](repeating: 65, count: (4 << 20) + 1)
            #expect(try await Self.patchTrace(client, jobID: job.id, token: job.token, range: "0-\(huge.count - 1)", body: huge) == .contentTooLarge)
        }
    }

    static func nested(_ depth: Int) -> String {
        String(repeating: "a { ", count: depth - 1) + "a" + String(repeating: " }", count: depth - 1)
    }

    @Test("an anonymous GraphQL query nested 3,000 deep gets GitLab's depth error, not a crash")
    func deepGraphQL() async throws {
        try await withTestServer { server, client in
            let deep = try await client.graphql("{ " + Self.nested(3000) + " }", token: nil)
            #expect(deep.status == .ok)
            #expect(deep.errors == ["Query has depth of 3000, which exceeds max depth of 15"])
            let arguments = try await client.graphql("{ a(x: " + String(repeating: "[", count: 3000) + String(repeating: "]", count: 3000) + ") }", token: nil)
            #expect(arguments.status == .ok)
            #expect(arguments.errors == ["Query has nesting of 3002, which exceeds max nesting of 64"])
        }
    }

    @Test("GraphQL depth is limited to 15 anonymous and 20 authenticated, fragments counted")
    func graphQLDepth() async throws {
        try await withTestServer { server, client in
            #expect(try await client.graphql("{ " + Self.nested(16) + " }", token: nil).errors == ["Query has depth of 16, which exceeds max depth of 15"])
            let fifteen = try await client.graphql("{ " + Self.nested(15) + " }", token: nil)
            #expect(!fifteen.errors.contains { $0.contains("depth") })
            let authenticated = try await client.graphql("{ " + Self.nested(20) + " }", token: server.rootToken)
            #expect(!authenticated.errors.contains { $0.contains("depth") })
            #expect(try await client.graphql("{ " + Self.nested(21) + " }", token: server.rootToken).errors == ["Query has depth of 21, which exceeds max depth of 20"])
            let fragments = "query { a { ...F } } fragment F on Query { " + Self.nested(15) + " }"
            #expect(try await client.graphql(fragments, token: nil).errors == ["Query has depth of 16, which exceeds max depth of 15"])
        }
    }

    @Test("GraphQL complexity is limited, fragment bombs included, and so are the fields of a whole document")
    func graphQLComplexity() async throws {
        try await withTestServer { _, client throws in
            let aliases = "{ " + (0..<201).map { "a\($0): __typename" }.joined(separator: " ") + " }"
            #expect(try await client.graphql(aliases, token: nil).errors == ["Query has complexity of 201, which exceeds max complexity of 200"])
            var bomb = "query { ...F30 } fragment F0 on Query { __typename }"
            for level in 1...30 { bomb += " fragment F\(level) on Query { ...F\(level - 1) ...F\(level - 1) }" }
            #expect(try await client.graphql(bomb, token: nil).errors == ["Query has complexity of 201, which exceeds max complexity of 200"])
            let unused = "{ __typename } query Other { " + (0..<1001).map { "a\($0): __typename" }.joined(separator: " ") + " }"
            #expect(try await client.graphql(unused, token: nil).errors == ["Query has 1002 fields, which exceeds the limit of 1000"])
        }
    }

    @Test("a body git http-backend does not read (a POST to info/refs, 4 MiB) ends the request with git's answer, not a 500")
    func unreadGitBody() async throws {
        try await withTestServer { server, client in
            _ = try await client.createProject(["name": "target", "visibility": "public"], token: server.rootToken)
            let body = String(repeating: "a=b&", count: 1 << 20)
            for token in [nil, server.rootToken] {
                for _ in 0..<3 {
                    let response = try await client.api(.post, "/root/target.git/info/refs?service=git-upload-pack", token: token, form: body)
                    #expect(response.status.code < 500, "\(response.status) \(response.text.prefix(200))")
                }
            }
        }
    }
}
