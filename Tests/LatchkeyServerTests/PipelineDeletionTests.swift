import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import Testing

@testable import LatchkeyServer

@Suite("Deleting a pipeline")
struct PipelineDeletionTests {
    @Test("only an Owner deletes a pipeline; its jobs, traces and artifacts go with it and a running job's token dies", arguments: TestBackend.all)
    func deletesEverything(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, alice) = try await server.makeUser("alice")
            let developer = try await server.makeUser("dev")
            let project = try await client.createProject(["name": "app"], token: alice).id
            try await client.addMember("projects", project, userID: developer.0.id, level: Level.developer, token: alice)
            let job = try await client.runningJob(server, projectID: project, userToken: alice)
            try await ProjectDeletionTests.writeTrace(client, job, "a log of the deleted pipeline\n")
            let upload = try await DotenvReportFlowTests.upload(client, jobID: job.jobID, token: job.token, bytes: Array("not much of a zip".utf8), type: "archive", format: "zip")
            try #require(upload.status == .created, "\(upload.text)")
            let artifacts = server.environment.artifacts.root
            #expect(!(try ProjectDeletionTests.storedFiles(under: artifacts)).isEmpty)
            let path = "projects/\(project)/pipelines/\(job.pipelineID)"

            #expect(try await client.api(.delete, path, token: developer.1).status == .forbidden, "Developers may not delete pipelines")
            #expect(try await client.api(.delete, "projects/\(project)/pipelines/999999", token: alice).status == .notFound)
            #expect(try await client.api(.delete, path, token: alice).status == .noContent)

            #expect(try await client.api(.get, path, token: alice).status == .notFound)
            #expect(try await client.api(.get, "projects/\(project)/jobs/\(job.jobID)", token: alice).status == .notFound)
            #expect(!FileManager.default.fileExists(atPath: server.environment.traces.url(jobID: job.jobID).path), "the trace file is gone")
            let left = try ProjectDeletionTests.storedFiles(under: artifacts)
            #expect(left.isEmpty, "artifact files left: \(left)")
            #expect(try await client.api(.get, "job", headers: job.headers).status == .unauthorized, "the running job's token died with it")
            #expect(try await client.api(.delete, path, token: alice).status == .notFound)
        }
    }
}
