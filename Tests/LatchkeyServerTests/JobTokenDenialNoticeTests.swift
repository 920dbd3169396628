import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import Testing

@testable import LatchkeyServer

@Suite("Job token denial notices")
struct JobTokenDenialNoticeTests {
    @Test(
        "a refusal that says nothing about the target never names it in the trace",
        arguments: [Denial.notFound, .jobNotRunning, .blocked, .unauthenticated])
    func invisibleTargetUnnamed(denial: Denial) {
        let line = JobTokenDenialNotice.line(source: "dev/app", target: "group/secretproj", ability: .readJob, denial: denial)
        #expect(!line.contains("secretproj"))
        #expect(line.contains("a project you cannot see"))
    }

    @Test("a refusal made after the user was found able to see the target still names it")
    func visibleTargetNamed() {
        let line = JobTokenDenialNotice.line(
            source: "dev/app", target: "group/shared", ability: .readJob,
            denial: .jobTokenScope(source: "dev/app", target: "group/shared"))
        #expect(line.contains("group/shared"))
    }

    @Test("a job reaching a private project its user cannot see gets 404, and its trace names no project", arguments: TestBackend.all)
    func traceNamesNoHiddenProject(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let (_, devToken) = try await server.makeUser("dev")
            _ = try await client.createGroup("group", token: server.rootToken)
            let group = try #require(try await server.store.namespaces.group(fullPath: "group"))
            let secret = try await client.createProject(["name": "secretproj", "namespace_id": group.id], token: server.rootToken).id
            let app = try await client.createProject(["name": "app"], token: devToken).id
            let job = try await client.runningJob(server, projectID: app, userToken: devToken)

            let refused = try await client.api(.get, "projects/\(secret)/repository/branches", headers: job.headers)
            #expect(refused.status == .notFound)
            let trace = String(decoding: server.environment.traces.read(jobID: job.jobID), as: UTF8.self)
            #expect(trace.contains("job token refused"), "the refusal is explained: \(trace)")
            #expect(!trace.contains("secretproj"))
            #expect(!trace.contains("group/"))
            #expect(trace.contains("a project you cannot see"))
        }
    }
}
