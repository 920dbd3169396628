import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import Testing

@Suite("Pipeline trigger API")
struct TriggerAPITests {
    @Test("a trigger token starts a `trigger` pipeline as its owner; its whole value is shown only once", arguments: TestBackend.all)
    func triggerToken(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let fixture = try await JobTokenFixture(server, client)
            let projectID = try await fixture.project("app")
            let other = try await fixture.project("other")
            let created = try await client.api(.post, "projects/\(projectID)/triggers", token: server.rootToken, json: ["description": "deploy"])
            #expect(created.status == .created)
            let token = try #require(created.string("token"))
            #expect(token.hasPrefix("glptt-"))
            #expect(token.count > 40)
            let listed = try await client.api(.get, "projects/\(projectID)/triggers", token: server.rootToken)
            #expect(listed.array.count == 1)
            let shown = try #require(listed.array.first?["token"] as? String)
            #expect(shown != token && token.hasPrefix(shown))

            let triggered = try await client.api(.post, "projects/\(projectID)/trigger/pipeline", form: "token=\(token)&ref=main&variables%5BDEPLOY_TO%5D=staging")
            #expect(triggered.status == .created, "\(triggered.text)")
            #expect(triggered.string("source") == "trigger")
            #expect((triggered.object["user"] as? [String: Any])?["username"] as? String == "root")
            let pipeline = try #require(try await server.store.pipelines.find(id: triggered.id))
            #expect(pipeline.variables.map(\.key) == ["DEPLOY_TO"])
            let json = try await client.api(.post, "projects/\(projectID)/trigger/pipeline", json: ["token": token, "ref": "main", "variables": ["A": "b"]])
            #expect(json.status == .created)

            for (project, secret) in [(projectID, "glptt-wrong"), (other, token), (999_999, token)] {
                let refused = try await client.api(.post, "projects/\(project)/trigger/pipeline", form: "token=\(secret)&ref=main")
                #expect(refused.status == .notFound)
                #expect(refused.text == "{\"message\":\"404 Not Found\"}")
            }
            let unknownRef = try await client.api(.post, "projects/\(projectID)/trigger/pipeline", form: "token=\(token)&ref=nope")
            #expect(unknownRef.status == .badRequest)
            #expect(unknownRef.problems["base"] == ["Reference not found"])
            #expect(try await client.api(.post, "projects/\(projectID)/trigger/pipeline", form: "ref=main").text == "{\"error\":\"token is missing\"}")

            let triggerID = try #require(listed.array.first?.id)
            let (_, developer) = try await fixture.user("dev", level: Level.developer, on: projectID)
            #expect(try await client.api(.get, "projects/\(projectID)/triggers", token: developer).status == .forbidden)
            #expect(try await client.api(.delete, "projects/\(projectID)/triggers/\(triggerID)", token: server.rootToken).status == .noContent)
            #expect(try await client.api(.post, "projects/\(projectID)/trigger/pipeline", form: "token=\(token)&ref=main").status == .notFound)
        }
    }

    @Test("a running job's token starts a `pipeline` pipeline as the job's user, recording the upstream job", arguments: TestBackend.all)
    func jobToken(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let fixture = try await JobTokenFixture(server, client)
            let projectID = try await fixture.project("app")
            let job = try await fixture.runningJob(projectID)
            let triggered = try await client.api(.post, "projects/\(projectID)/trigger/pipeline", form: "token=\(job.token)&ref=main")
            #expect(triggered.status == .created, "\(triggered.text)")
            #expect(triggered.string("source") == "pipeline")
            let pipeline = try #require(try await server.store.pipelines.find(id: triggered.id))
            #expect(pipeline.upstreamJobID == job.id)
            #expect(pipeline.source == .pipeline)
            #expect(pipeline.userID == 1)

            try await fixture.finish(jobID: job.id, token: job.token)
            let dead = try await client.api(.post, "projects/\(projectID)/trigger/pipeline", form: "token=\(job.token)&ref=main")
            #expect(dead.status == .notFound)
            #expect(dead.text == "{\"message\":\"404 Not Found\"}")
        }
    }

    @Test("across projects the job token needs the target's allowlist and the user's Developer role there", arguments: TestBackend.all)
    func crossProject(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let fixture = try await JobTokenFixture(server, client)
            let target = try await fixture.project("target")
            let source = try await fixture.project("source")
            let (rita, ritaToken) = try await fixture.user("rita", level: Level.reporter, on: target)
            try await client.addMember("projects", source, userID: rita.id, level: Level.developer, token: server.rootToken)

            let rootJob = try await fixture.runningJob(source)
            let refused = try await client.api(.post, "projects/\(target)/trigger/pipeline", form: "token=\(rootJob.token)&ref=main")
            #expect(refused.status == .notFound)
            #expect(refused.text == "{\"message\":\"404 Not Found\"}")
            try await fixture.allow(source, into: target)
            let allowed = try await client.api(.post, "projects/\(target)/trigger/pipeline", form: "token=\(rootJob.token)&ref=main")
            #expect(allowed.status == .created, "\(allowed.text)")
            #expect(try await server.store.pipelines.find(id: allowed.id)?.upstreamJobID == rootJob.id)
            try await fixture.finish(jobID: rootJob.id, token: rootJob.token)

            // Rita is a Developer where her job runs but only a Reporter on the target.
            let ritaJob = try await fixture.runningJob(source, as: ritaToken)
            let tooLow = try await client.api(.post, "projects/\(target)/trigger/pipeline", form: "token=\(ritaJob.token)&ref=main")
            #expect(tooLow.status == .notFound)
        }
    }
}
