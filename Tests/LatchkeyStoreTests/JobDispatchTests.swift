import Foundation
import LatchkeyCore
import LatchkeyStore
import LatchkeyTestSupport
import Testing

@Suite("Claiming jobs in one statement, and progression after a job ends")
struct JobDispatchTests {
    static let sha = String(repeating: "b", count: 40)

    private func pipeline(_ store: Store, _ definition: PipelineDefinition) async throws -> Pipeline {
        let alice = try await store.makeUser("alice")
        let project = try await store.makePersonalProject("app", of: alice)
        return try await store.pipelines.create(
            NewPipeline(projectID: project.id, ref: "main", sha: Self.sha, source: .push, userID: alice.id), configuration: .success(definition))
    }

    private func runner(_ store: Store, _ name: String, tags: [String], untagged: Bool) async throws -> Runner {
        try await store.runners.create(
            description: name, tokenDigest: "digest-\(name)", tokenNonce: "nonce-\(name)", tags: tags, runUntagged: untagged, locked: false, embedded: false,
            version: "test")
    }

    @Test("jobs needing tags no runner has never hide a later job, however many come first", arguments: TestBackend.all)
    func noStarvation(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let jobs = (0..<300).map { JobDefinition(name: "gpu\($0)", script: ["x"], tags: ["gpu"]) } + [JobDefinition(name: "plain", script: ["x"])]
            _ = try await pipeline(store, PipelineDefinition(stages: ["test"], variables: [], jobs: jobs))
            let plain = try await runner(store, "plain", tags: ["linux"], untagged: true)
            let claimed = try await store.jobs.claimNext(runner: plain, tokenDigest: "job-1", tokenNonce: "n1")
            #expect(claimed?.name == "plain")
            #expect(claimed?.status == .running)
            #expect(claimed?.runnerID == plain.id)
            #expect(try await store.jobs.claimNext(runner: plain, tokenDigest: "job-2", tokenNonce: "n2") == nil)
            #expect(try await store.jobs.find(tokenDigest: "job-1")?.name == "plain")
            #expect(try await store.jobs.traceState(jobID: try #require(claimed).id)?.received == 0)
        }
    }

    @Test("a runner takes only jobs whose every tag it has, untagged ones only with run_untagged, inactive never", arguments: TestBackend.all)
    func tagRules(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let jobs = [
                JobDefinition(name: "untagged", script: ["x"]),
                JobDefinition(name: "docker", script: ["x"], tags: ["docker"]),
                JobDefinition(name: "docker-arm", script: ["x"], tags: ["docker", "arm", "docker"]),
            ]
            let created = try await pipeline(store, PipelineDefinition(stages: ["test"], variables: [], jobs: jobs))
            let tagged = try await runner(store, "tagged", tags: ["docker", "x86"], untagged: false)
            let first = try await store.jobs.claimNext(runner: tagged, tokenDigest: "d1", tokenNonce: "n1")
            #expect(first?.name == "docker")
            #expect(try await store.jobs.claimNext(runner: tagged, tokenDigest: "d2", tokenNonce: "n2") == nil)
            #expect(try await store.pipelines.find(id: created.id)?.status == .running)
            #expect(try await store.pipelines.find(id: created.id)?.startedAt != nil)
            let bare = try await runner(store, "bare", tags: [], untagged: false)
            #expect(try await store.jobs.claimNext(runner: bare, tokenDigest: "d3", tokenNonce: "n3") == nil)
            let arm = try await runner(store, "arm", tags: ["arm", "docker"], untagged: true)
            #expect(try await store.jobs.claimNext(runner: arm, tokenDigest: "d4", tokenNonce: "n4")?.name == "untagged")
            #expect(try await store.jobs.claimNext(runner: arm, tokenDigest: "d5", tokenNonce: "n5")?.name == "docker-arm")
            var inactive = try await runner(store, "inactive", tags: [], untagged: true)
            inactive.active = false
            _ = try await store.pipelines.create(
                NewPipeline(projectID: created.projectID, ref: "main", sha: Self.sha, source: .push, userID: created.userID),
                configuration: .success(PipelineDefinition(stages: ["test"], variables: [], jobs: [JobDefinition(name: "late", script: ["x"])])))
            #expect(try await store.jobs.claimNext(runner: inactive, tokenDigest: "d6", tokenNonce: "n6") == nil)
        }
    }

    @Test("a runner paused, given other tags or deleted after it was loaded (a long poll in progress) claims nothing with what it was", arguments: TestBackend.all)
    func staleRunner(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            _ = try await pipeline(store, PipelineDefinition(stages: ["test"], variables: [], jobs: [JobDefinition(name: "deploy", script: ["x"], tags: ["prod"])]))
            let loaded = try await runner(store, "poller", tags: ["prod"], untagged: false)
            _ = try await store.runners.update(id: loaded.id, RunnerChanges(active: false))
            #expect(try await store.jobs.claimNext(runner: loaded, tokenDigest: "p1", tokenNonce: "n1") == nil, "paused meanwhile")
            _ = try await store.runners.update(id: loaded.id, RunnerChanges(tags: ["dev"], active: true))
            #expect(try await store.jobs.claimNext(runner: loaded, tokenDigest: "p2", tokenNonce: "n2") == nil, "lost the tag meanwhile")
            let current = try #require(try await store.runners.find(id: loaded.id))
            #expect(try await store.jobs.claimNext(runner: current, tokenDigest: "p3", tokenNonce: "n3") == nil, "and as it is now it has not the tag")
            let other = try await runner(store, "other", tags: ["prod"], untagged: false)
            try await store.runners.delete(id: other.id)
            #expect(try await store.jobs.claimNext(runner: other, tokenDigest: "p4", tokenNonce: "n4") == nil, "deleted meanwhile")
            let fresh = try await runner(store, "fresh", tags: ["prod"], untagged: false)
            #expect(try await store.jobs.claimNext(runner: fresh, tokenDigest: "p5", tokenNonce: "n5")?.name == "deploy")
        }
    }

    @Test("many concurrent claimants with random tag sets never claim a job twice and leave no job one of them could run", arguments: TestBackend.all)
    func concurrentClaims(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            var generator = SystemRandomNumberGenerator()
            let tagPool = ["a", "b", "c", "d"]
            func randomTags() -> [String] { tagPool.filter { _ in Bool.random(using: &generator) } }
            let definitions = (0..<240).map { JobDefinition(name: "job\($0)", script: ["x"], tags: randomTags()) }
            _ = try await pipeline(store, PipelineDefinition(stages: ["test"], variables: [], jobs: definitions))
            var runners: [Runner] = []
            for index in 0..<16 { runners.append(try await runner(store, "r\(index)", tags: randomTags(), untagged: Bool.random(using: &generator))) }
            let claims = try await withThrowingTaskGroup(of: [(Runner, Job)].self) { group in
                for (index, runner) in runners.enumerated() {
                    group.addTask {
                        var mine: [(Runner, Job)] = []
                        var attempt = 0
                        while let job = try await store.jobs.claimNext(runner: runner, tokenDigest: "t\(index)-\(attempt)", tokenNonce: "n") {
                            mine.append((runner, job))
                            attempt += 1
                        }
                        return mine
                    }
                }
                var all: [(Runner, Job)] = []
                for try await some in group { all += some }
                return all
            }
            let ids = claims.map(\.1.id)
            #expect(Set(ids).count == ids.count, "a job was claimed twice")
            for (runner, job) in claims {
                #expect(runner.canRun(tags: definitions.first { $0.name == job.name }?.tags ?? ["?"]), "\(runner.description) took \(job.name)")
            }
            let left = try await store.jobs.jobs(pipelineID: try #require(claims.first?.1.pipelineID), filter: JobFilter(statuses: [.pending])).items
            for job in left {
                #expect(!runners.contains { $0.canRun(tags: job.definition.tags) }, "\(job.name) was left though a runner could run it")
            }
            let running = try await store.jobs.active()
            #expect(Set(running.map(\.id)) == Set(ids))
            #expect(Set(running.compactMap(\.runnerID)).isSubset(of: Set(runners.map(\.id))))
        }
    }

    @Test("a claim given back (its runner left) is pending again with no token, sealed JWT or trace, and only that claim can give it back", arguments: TestBackend.all)
    func giveBack(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let created = try await pipeline(store, PipelineDefinition(stages: ["test"], variables: [], jobs: [JobDefinition(name: "only", script: ["x"])]))
            let runner = try await runner(store, "r", tags: [], untagged: true)
            let claimed = try #require(try await store.jobs.claimNext(runner: runner, tokenDigest: "digest-1", tokenNonce: "nonce-1"))
            #expect(try await store.pipelines.find(id: created.id)?.status == .running)
            #expect(try await store.jobs.issueSignedToken(jobID: claimed.id, nonce: "nonce-1", tokenDigest: "digest-1", sealed: "sealed-jwt"))
            #expect(try await store.jobs.giveBack(jobID: claimed.id, tokenNonce: "another-nonce") == false)
            #expect(try await store.jobs.giveBack(jobID: claimed.id, tokenNonce: "nonce-1"))
            #expect(try await store.jobs.giveBack(jobID: claimed.id, tokenNonce: "nonce-1") == false)
            let returned = try #require(try await store.jobs.find(id: claimed.id))
            #expect(returned.status == .pending)
            #expect(returned.runnerID == nil)
            #expect(try await store.jobs.find(tokenDigest: "digest-1") == nil)
            #expect(try await store.jobs.tokenNonce(jobID: claimed.id) == nil)
            #expect(try await store.jobs.sealedSignedToken(jobID: claimed.id) == nil)
            #expect(try await store.jobs.traceState(jobID: claimed.id) == nil)
            #expect(try await store.pipelines.find(id: created.id)?.status == .pending)
            let again = try #require(try await store.jobs.claimNext(runner: runner, tokenDigest: "digest-2", tokenNonce: "nonce-2"))
            #expect(again.id == claimed.id)
            #expect(try await store.jobs.find(tokenDigest: "digest-2")?.id == claimed.id)
            // The new claim does not inherit the old claim's sealed token.
            #expect(try await store.jobs.sealedSignedToken(jobID: claimed.id) == nil)
        }
    }

    @Test("jobs ending at once, in any order, leave the same job and pipeline statuses as the full progression", arguments: TestBackend.all)
    func progressionAfterEnds(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let definitions =
                (0..<12).map { JobDefinition(name: "build\($0)", stage: "build", script: ["x"], allowFailure: $0 == 3) }
                + [JobDefinition(name: "test", stage: "test", script: ["x"]), JobDefinition(name: "cleanup", stage: "test", script: ["x"], when: .onFailure)]
            let created = try await pipeline(store, PipelineDefinition(stages: ["build", "test"], variables: [], jobs: definitions))
            let runner = try await runner(store, "r", tags: [], untagged: true)
            var claimed: [Job] = []
            for index in 0..<12 { claimed.append(try #require(try await store.jobs.claimNext(runner: runner, tokenDigest: "t\(index)", tokenNonce: "n"))) }
            #expect(claimed.allSatisfy { $0.stage == "build" })
            try await withThrowingTaskGroup(of: Void.self) { group in
                for job in claimed.shuffled() {
                    group.addTask {
                        _ = try await store.jobs.finish(jobID: job.id, status: job.name == "build3" ? .failed : .success, failureReason: nil, exitCode: nil)
                    }
                }
                try await group.waitForAll()
            }
            let jobs = try await store.jobs.jobs(pipelineID: created.id).items
            #expect(PipelineProgression.advance(jobs.map(\.progression)).isEmpty, "a job is left waiting for a progression nobody ran")
            #expect(jobs.first { $0.name == "test" }?.status == .pending)
            #expect(jobs.first { $0.name == "cleanup" }?.status == .skipped)
            #expect(try await store.pipelines.find(id: created.id)?.status == PipelineProgression.status(of: jobs.map(\.progression)))
            let last = try #require(try await store.jobs.claimNext(runner: runner, tokenDigest: "t-last", tokenNonce: "n"))
            #expect(last.name == "test")
            _ = try await store.jobs.finish(jobID: last.id, status: .success, failureReason: nil, exitCode: nil)
            #expect(try await store.pipelines.find(id: created.id)?.status == .success)
        }
    }

    @Test("a job's archive dependencies come from one query: earlier stages by default, or the named jobs", arguments: TestBackend.all)
    func dependencyArchives(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let definitions = [
                JobDefinition(name: "one", stage: "build", script: ["x"]), JobDefinition(name: "two", stage: "build", script: ["x"]),
                JobDefinition(name: "all", stage: "test", script: ["x"]), JobDefinition(name: "named", stage: "test", script: ["x"], dependencies: ["two"]),
                JobDefinition(name: "none", stage: "test", script: ["x"], dependencies: []),
            ]
            let created = try await pipeline(store, PipelineDefinition(stages: ["build", "test"], variables: [], jobs: definitions))
            let runner = try await runner(store, "r", tags: [], untagged: true)
            for index in 0..<2 {
                let job = try #require(try await store.jobs.claimNext(runner: runner, tokenDigest: "b\(index)", tokenNonce: "n"))
                _ = try await store.artifacts.save(
                    jobID: job.id, projectID: job.projectID, fileType: "archive", fileFormat: "zip", filename: "\(job.name).zip", size: 10 + Int64(index),
                    storagePath: "x/\(job.id)", expireAt: index == 0 ? nil : Date().addingTimeInterval(3600))
                _ = try await store.jobs.finish(jobID: job.id, status: .success, failureReason: nil, exitCode: nil)
            }
            let jobs = try await store.jobs.jobs(pipelineID: created.id).items
            func of(_ name: String) async throws -> [String] { try await store.jobs.dependencyArchives(of: try #require(jobs.first { $0.name == name })).map(\.filename) }
            #expect(try await of("all") == ["one.zip", "two.zip"])
            #expect(try await of("named") == ["two.zip"])
            #expect(try await of("none") == [])
            let later = Date().addingTimeInterval(7200)
            #expect(try await store.jobs.dependencyArchives(of: try #require(jobs.first { $0.name == "all" }), now: later).map(\.filename) == ["one.zip"])
        }
    }
}
