import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import Testing

@testable import LatchkeyServer

@Suite("Job reaper")
struct JobReaperTests {
    @Test("a job past its timeout fails with job_execution_timeout, a silent runner's with runner_system_failure, and both tokens die", arguments: TestBackend.all)
    func reaps(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (projectID, runnerToken) = try await RunnerProtocolTests.setUp(server, client)
            let claimed = try await client.api(.post, "jobs/request", json: ["token": runnerToken])
            let jobID = try #require(claimed.object["id"] as? Int)
            let token = try #require(claimed.object["token"] as? String)
            var headers = HTTPFields()
            headers[HTTPField.Name("JOB-TOKEN")!] = token
            #expect(try await client.api(.get, "job", headers: headers).status == .ok)

            let reaper = JobReaper(environment: server.environment, queue: JobQueue())
            await reaper.reap(now: Date())
            #expect(try await client.api(.get, "job", headers: headers).status == .ok, "a fresh job is left alone")

            await reaper.reap(now: Date().addingTimeInterval(3600 + 61))
            let job = try await client.api(.get, "projects/\(projectID)/jobs/\(jobID)", token: server.rootToken)
            #expect(job.object["status"] as? String == "failed")
            #expect(job.object["failure_reason"] as? String == "job_execution_timeout")
            #expect(try await client.api(.get, "job", headers: headers).status == .unauthorized)
            let trace = try await client.api(.get, "projects/\(projectID)/jobs/\(jobID)/trace", token: server.rootToken)
            #expect(trace.text.contains("execution took longer than 3600 seconds"))
        }
    }

    @Test("a running job whose runner stopped reporting fails with runner_system_failure")
    func silentRunner() async throws {
        try await withTestServer { server, client in
            let (projectID, runnerToken) = try await RunnerProtocolTests.setUp(server, client)
            let claimed = try await client.api(.post, "jobs/request", json: ["token": runnerToken])
            let jobID = try #require(claimed.object["id"] as? Int)
            let reaper = JobReaper(environment: server.environment, queue: JobQueue())
            await reaper.reap(now: Date().addingTimeInterval(601))
            let job = try await client.api(.get, "projects/\(projectID)/jobs/\(jobID)", token: server.rootToken)
            #expect(job.object["status"] as? String == "failed")
            #expect(job.object["failure_reason"] as? String == "runner_system_failure")
        }
    }
}

@Suite("Abandoned temporary files")
struct AbandonedTemporaryFilesTests {
    @Test("the reaper removes upload halves and push files untouched for a day, and leaves fresh ones and other names alone")
    func sweepsOldOnes() async throws {
        try await withTestServer { server, _ in
            let environment = server.environment
            try environment.packages.prepare()
            let old = Date().addingTimeInterval(-2 * 86400)
            let system = FileManager.default.temporaryDirectory
            let stale = [
                environment.artifacts.root.appendingPathComponent("tmp/upload-\(UUID().uuidString)"),
                environment.packages.root.appendingPathComponent("tmp/upload-\(UUID().uuidString)"),
                system.appendingPathComponent("latchkey-push-\(UUID().uuidString)"),
            ]
            let staleDirectory = system.appendingPathComponent("latchkey-scan-\(UUID().uuidString)", isDirectory: true)
            let fresh = environment.artifacts.root.appendingPathComponent("tmp/upload-\(UUID().uuidString)")
            let unrelated = system.appendingPathComponent("someone-else-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: unrelated) }
            for file in stale + [fresh, unrelated] { try Data("half".utf8).write(to: file) }
            try FileManager.default.createDirectory(at: staleDirectory, withIntermediateDirectories: false)
            for item in stale + [staleDirectory, unrelated] { try FileManager.default.setAttributes([.modificationDate: old], ofItemAtPath: item.path) }

            await JobReaper(environment: environment, queue: JobQueue()).reap(now: Date())
            for item in stale + [staleDirectory] { #expect(!FileManager.default.fileExists(atPath: item.path), "\(item.lastPathComponent) is gone") }
            #expect(FileManager.default.fileExists(atPath: fresh.path), "an upload still being written stays")
            #expect(FileManager.default.fileExists(atPath: unrelated.path), "files that are not Latchkey's stay")
        }
    }
}
