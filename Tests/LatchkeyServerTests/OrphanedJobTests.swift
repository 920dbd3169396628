import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import Testing

@testable import LatchkeyServer

@Suite("Orphaned jobs")
struct OrphanedJobTests {
    @Test("a running job whose runner is silent for 4× its keep-alive (2 minutes) fails, and its token dies at once", arguments: TestBackend.all)
    func silentForTwoMinutes(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let project = try await client.createProject(["name": "app"], token: server.rootToken).id
            // The runner's last word is the claim, at or after `claimed`: 90 s from then, however slow a loaded machine is.
            let claimed = Date()
            let job = try await client.runningJob(server, projectID: project, userToken: server.rootToken)
            let reaper = JobReaper(environment: server.environment, queue: JobQueue())

            await reaper.reap(now: claimed.addingTimeInterval(90))
            #expect(try await client.api(.get, "job", headers: job.headers).status == .ok, "90 seconds of silence is within the keep-alive allowance")

            await reaper.reap(now: Date().addingTimeInterval(125))
            #expect(try await client.api(.get, "job", headers: job.headers).status == .unauthorized)
            let shown = try await client.api(.get, "projects/\(project)/jobs/\(job.jobID)", token: server.rootToken)
            #expect(shown.object["status"] as? String == "failed")
            #expect(shown.object["failure_reason"] as? String == "runner_system_failure")
            #expect(try await server.store.jobs.find(tokenDigest: server.environment.digester.digest(job.token)) == nil)
        }
    }

    @Test("the silence limit is about two minutes by default")
    func defaultLimit() {
        let settings = ServerSettings(dataDirectory: URL(fileURLWithPath: "/tmp/unused"), rootToken: nil, rootPassword: nil)
        #expect(settings.runnerSilenceLimit == .seconds(120))
    }
}
