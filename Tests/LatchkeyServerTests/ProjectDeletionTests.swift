import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import NIOCore
import Testing

@testable import LatchkeyServer

@Suite("Deleting projects and groups")
struct ProjectDeletionTests {
    /// Sends `text` as the job's whole trace so far.
    static func writeTrace(_ client: any TestClientProtocol, _ job: RunningJob, _ text: String) async throws {
        var headers = job.headers
        headers[.contentRange] = "0-\(text.utf8.count - 1)"
        let patched = try await client.execute(uri: "/api/v4/jobs/\(job.jobID)/trace", method: .patch, headers: headers, body: ByteBuffer(string: text)) { $0 }
        try #require(patched.status == .accepted)
    }

    /// The regular files below `root`, leaving out the uploads' temporary directory.
    static func storedFiles(under root: URL) throws -> [String] {
        try FileManager.default.subpathsOfDirectory(atPath: root.path).filter { path in
            var isDirectory: ObjCBool = false
            return !path.hasPrefix("tmp") && FileManager.default.fileExists(atPath: root.appendingPathComponent(path).path, isDirectory: &isDirectory)
                && !isDirectory.boolValue
        }
    }

    @Test("a deleted project's ids are never reused and its job logs, packages and repository go with it", arguments: TestBackend.all)
    func deletedProjectLeavesNothing(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let old = try await client.createProject(["name": "old"], token: server.rootToken).id
            let oldJob = try await client.runningJob(server, projectID: old, userToken: server.rootToken)
            try await Self.writeTrace(client, oldJob, "root's deleted log\n")
            let upload = try await client.execute(
                uri: "/api/v4/projects/\(old)/packages/generic/pkg/1.0.0/file.txt", method: .put, headers: oldJob.headers, body: ByteBuffer(string: "root's package")
            ) { $0 }
            try #require(upload.status == .created, "package upload: \(upload.status)")
            #expect(!(try Self.storedFiles(under: server.environment.packages.root)).isEmpty)
            #expect(FileManager.default.fileExists(atPath: server.environment.traces.url(jobID: oldJob.jobID).path))

            #expect(try await client.api(.delete, "projects/\(old)", token: server.rootToken).status == .accepted)
            #expect(!FileManager.default.fileExists(atPath: server.environment.traces.url(jobID: oldJob.jobID).path), "the trace file is gone")
            #expect(!FileManager.default.fileExists(atPath: server.environment.repositories.path(projectID: old).path))
            let leftPackages = try Self.storedFiles(under: server.environment.packages.root)
            #expect(leftPackages.isEmpty, "package files left: \(leftPackages)")

            let (_, carolToken) = try await server.makeUser("carol")
            let new = try await client.createProject(["name": "new"], token: carolToken).id
            #expect(new != old)
            let newJob = try await client.runningJob(server, projectID: new, userToken: carolToken)
            #expect(newJob.jobID != oldJob.jobID)
            #expect(newJob.pipelineID != oldJob.pipelineID)
            try await Self.writeTrace(client, newJob, "carol's log\n")
            let trace = try await client.api(.get, "projects/\(new)/jobs/\(newJob.jobID)/trace", token: carolToken)
            #expect(trace.text.hasPrefix("carol's"), "carol's job starts with her own log: \(trace.text)")
            #expect(!trace.text.contains("root's"))
            #expect(try await client.api(.get, "projects/\(old)/jobs/\(oldJob.jobID)/trace", token: server.rootToken).status == .notFound)
        }
    }

    @Test("deleting a group removes the files of every project below it", arguments: TestBackend.all)
    func deletedGroupLeavesNothing(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let group = try await client.createGroup("team", token: server.rootToken).id
            let sub = try await client.createGroup("sub", parent: group, token: server.rootToken).id
            let project = try await client.createProject(["name": "app", "namespace_id": sub], token: server.rootToken).id
            let job = try await client.runningJob(server, projectID: project, userToken: server.rootToken)
            try await Self.writeTrace(client, job, "team log\n")
            #expect(try await client.api(.delete, "groups/\(group)", token: server.rootToken).status == .accepted)
            #expect(!FileManager.default.fileExists(atPath: server.environment.traces.url(jobID: job.jobID).path))
            #expect(!FileManager.default.fileExists(atPath: server.environment.repositories.path(projectID: project).path))
            #expect(try await server.store.projects.find(id: project) == nil)
            let again = try await client.createGroup("team", token: server.rootToken).id
            #expect(again != group)
        }
    }
}
