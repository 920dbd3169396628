import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyServer
import LatchkeyTestSupport
import NIOCore
import Testing

/// The dispatch benchmark's 1,000-job run stalled: runner processes of an earlier round, killed while their
/// `POST /jobs/request` long-polled, were still handed jobs when the next pipeline came, so those jobs stayed running
/// (their tokens live) for nobody until the reaper. A long poll must end with its client.
@Suite("A runner that leaves its long poll is handed no job")
struct AbandonedLongPollTests {
    static let jobs = 40
    static let abandoned = 4
    static let claimants = 4

    @Test("every job reaches a runner that is still asking, exactly once, when other runners left their long polls", arguments: TestBackend.all)
    func everyJobReachesAWaitingRunner(backend: TestBackend) async throws {
        // Long enough that a long poll never ends by itself during the test: only its client leaving can end it.
        try await withLiveTestServer(backend, longPoll: .seconds(300)) { server, queue, port, client in
            let created = try await client.api(.post, "projects", token: server.rootToken, json: ["name": "app"])
            let projectID = try #require(created.object["id"] as? Int)
            let ci = (0..<Self.jobs).map { "job\($0):\n  script: echo \($0)\n" }.joined()
            try GitFixtures.commit([".gitlab-ci.yml": ci], to: server.environment.repositories.path(projectID: Int64(projectID)))
            let registration = try await server.environment.registrationToken()
            var tokens: [String] = []
            for index in 0..<(Self.abandoned + Self.claimants) {
                let runner = try await client.api(.post, "runners", json: ["token": registration, "description": "runner-\(index)"])
                tokens.append(try #require(runner.object["token"] as? String))
            }

            // Runners that ask for a job, wait in the long poll, then go away without reading an answer.
            let leaving = tokens.prefix(Self.abandoned).map { _ in TestClient(host: "127.0.0.1", port: port) }
            for (runner, token) in zip(leaving, tokens) {
                runner.connect()
                try await runner.executeAndDontWaitForResponse(Self.request(token))
            }
            try await Self.poll("the abandoned long polls to wait") { await queue.waiting == Self.abandoned }
            for runner in leaving { try await runner.shutdown() }
            try await Self.poll("the abandoned long polls to end with their connections") { await queue.waiting == 0 }

            let pipeline = try await client.api(.post, "projects/\(projectID)/pipeline", token: server.rootToken, json: ["ref": "main"])
            #expect(pipeline.status == .created, "\(pipeline.text.prefix(300))")
            let pipelineID = try #require(pipeline.object["id"] as? Int)

            // The remaining runners loop on POST /jobs/request, each on its own keep-alive connection, until every job is taken.
            let claims = Claims()
            let asking = tokens.suffix(Self.claimants).map { token in (TestClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(600))), token) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (runner, token) in asking {
                    runner.connect()
                    group.addTask {
                        while await claims.count < Self.jobs {
                            let answer = try await runner.execute(Self.request(token))
                            guard answer.status == .created else { continue }
                            let job = try JSONSerialization.jsonObject(with: Data(buffer: answer.body ?? ByteBuffer())) as? [String: Any]
                            await claims.add(try #require(job?["id"] as? Int))
                        }
                    }
                }
                // Runners still in a long poll once every job is taken stop by closing their connections (which fails their request).
                var failure: (any Error)?
                do { try await Self.poll("every job to be claimed") { await claims.count >= Self.jobs } } catch { failure = error }
                for (runner, _) in asking { try? await runner.shutdown() }
                group.cancelAll()
                if let failure { throw failure }
            }

            let claimed = await claims.ids
            let jobs = try await server.store.jobs.jobs(pipelineID: Int64(pipelineID)).items
            #expect(jobs.count == Self.jobs)
            #expect(claimed.count == Self.jobs, "a job was claimed twice")
            #expect(Set(claimed) == Set(jobs.map { Int($0.id) }))
            #expect(jobs.allSatisfy { $0.status == .running })
        }
    }

    static func request(_ token: String) -> TestClient.Request {
        let body = ByteBuffer(string: #"{"token":"\#(token)","last_update":""}"#)
        return TestClient.Request("/api/v4/jobs/request", method: .post, authority: "localhost", headers: [.contentType: "application/json"], body: body)
    }

    /// Waits until `condition` holds; fails after a generous bound (a loaded 2-core machine takes its time, a broken server forever).
    static func poll(_ what: String, _ condition: @Sendable () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(120)
        while try await !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out waiting for \(what)")
                throw CancellationError()
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// The job ids the waiting runners received, in order.
private actor Claims {
    private(set) var ids: [Int] = []
    var count: Int { ids.count }
    func add(_ id: Int) { ids.append(id) }
}
