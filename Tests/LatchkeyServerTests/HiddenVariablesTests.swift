import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import NIOCore
import Testing

@Suite("Masked and hidden variables")
struct HiddenVariablesTests {
    static let secret = "hidden-s3cret-value"

    @Test("masked_and_hidden makes a masked variable whose value no answer shows again", arguments: TestBackend.all)
    func hiddenOnCreate(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let project = try await client.createProject(["name": "app"], token: server.rootToken).id
            let created = try await client.api(
                .post, "projects/\(project)/variables", token: server.rootToken, json: ["key": "DEPLOY_KEY", "value": Self.secret, "masked_and_hidden": true])
            #expect(created.status == .created, "\(created.text)")
            #expect(created.object["value"] is NSNull, "GitLab 17.4+: value is null")
            #expect(created.object["hidden"] as? Bool == true)
            #expect(created.object["masked"] as? Bool == true)
            #expect(!created.text.contains(Self.secret))

            let shown = try await client.api(.get, "projects/\(project)/variables/DEPLOY_KEY", token: server.rootToken)
            #expect(shown.status == .ok)
            #expect(shown.object["value"] is NSNull)
            #expect(shown.object["hidden"] as? Bool == true)
            let listed = try await client.api(.get, "projects/\(project)/variables", token: server.rootToken)
            #expect(listed.array.count == 1)
            #expect(listed.array.first?["value"] is NSNull)
            #expect(!listed.text.contains(Self.secret))
        }
    }

    @Test("masked_and_hidden is create-only: an update cannot unmask or unhide, and its answer hides the value too", arguments: TestBackend.all)
    func updateCannotUnhide(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let project = try await client.createProject(["name": "app"], token: server.rootToken).id
            _ = try await client.api(
                .post, "projects/\(project)/variables", token: server.rootToken, json: ["key": "DEPLOY_KEY", "value": Self.secret, "masked_and_hidden": true])
            let unmask = try await client.api(.put, "projects/\(project)/variables/DEPLOY_KEY", token: server.rootToken, json: ["masked": false])
            #expect(unmask.status == .badRequest)
            let unhide = try await client.api(
                .put, "projects/\(project)/variables/DEPLOY_KEY", token: server.rootToken, json: ["masked_and_hidden": false, "value": "another-s3cret-value"])
            #expect(unhide.status == .ok)
            #expect(unhide.object["hidden"] as? Bool == true)
            #expect(unhide.object["value"] is NSNull)
            let variable = try #require(try await server.store.variables.find(projectID: project, key: "DEPLOY_KEY"))
            #expect(variable.hidden && variable.masked)
            #expect(variable.value == "another-s3cret-value")

            let plain = try await client.api(.post, "projects/\(project)/variables", token: server.rootToken, json: ["key": "PLAIN", "value": "visible-value"])
            #expect(plain.object["hidden"] as? Bool == false)
            #expect(plain.object["value"] as? String == "visible-value")
            let hideLater = try await client.api(.put, "projects/\(project)/variables/PLAIN", token: server.rootToken, json: ["masked_and_hidden": true])
            #expect(hideLater.object["hidden"] as? Bool == false, "hidden is chosen at creation only")
        }
    }

    @Test("a hidden variable reaches the job masked, and its value never shows in the trace", arguments: TestBackend.all)
    func maskedInTrace(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let project = try await client.createProject(["name": "app"], token: server.rootToken).id
            _ = try await client.api(
                .post, "projects/\(project)/variables", token: server.rootToken, json: ["key": "DEPLOY_KEY", "value": Self.secret, "masked_and_hidden": true])
            try GitFixtures.commit([".gitlab-ci.yml": "build:\n  script: echo build\n"], to: server.environment.repositories.path(projectID: project))
            let pipeline = try await client.api(.post, "projects/\(project)/pipeline", token: server.rootToken, json: ["ref": "main"])
            try #require(pipeline.status == .created)
            let registration = try await server.environment.registrationToken()
            let runnerToken = try #require(try await client.api(.post, "runners", json: ["token": registration]).object["token"] as? String)
            let claimed = try await client.api(.post, "jobs/request", json: ["token": runnerToken])
            try #require(claimed.status == .created)
            let variable = try #require((claimed.object["variables"] as? [[String: Any]])?.first { $0["key"] as? String == "DEPLOY_KEY" })
            #expect(variable["masked"] as? Bool == true)
            let token = try #require(claimed.object["token"] as? String)
            let leak = Array("deploying with \(Self.secret)\n".utf8)
            var headers = HTTPFields()
            headers[HTTPField.Name("JOB-TOKEN")!] = token
            headers[.contentRange] = "0-\(leak.count - 1)"
            let patched = try await client.execute(uri: "/api/v4/jobs/\(claimed.id)/trace", method: .patch, headers: headers, body: ByteBuffer(bytes: leak)) { $0 }
            #expect(patched.status == .accepted)
            // The final update flushes whatever the server's masker held back, so the stored trace is complete.
            let done = try await client.api(
                .put, "jobs/\(claimed.id)",
                json: ["token": token, "state": "success", "exit_code": 0, "output": ["checksum": CRC32.checksum(leak), "bytesize": leak.count] as [String: any Sendable]])
            #expect(done.status == .ok)
            let trace = try await client.api(.get, "projects/\(project)/jobs/\(claimed.id)/trace", token: server.rootToken)
            #expect(!trace.text.contains(Self.secret))
            #expect(trace.text.contains("[MASKED]"))
        }
    }
}
