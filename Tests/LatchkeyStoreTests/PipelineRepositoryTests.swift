import Foundation
import LatchkeyCore
import LatchkeyStore
import LatchkeyTestSupport
import SQLKit
import Testing

@Suite("Pipelines, jobs and schedules in the store")
struct PipelineRepositoryTests {
    static let sha = String(repeating: "a", count: 40)

    static let definition = PipelineDefinition(
        stages: ["build", "test", "deploy"], variables: [],
        jobs: [
            JobDefinition(name: "compile", stage: "build", script: ["make"]),
            JobDefinition(name: "unit", stage: "test", script: ["make test"]),
            JobDefinition(name: "lint", stage: "test", script: ["make lint"], allowFailure: true),
            JobDefinition(name: "ship", stage: "deploy", script: ["make ship"], when: .manual, allowFailure: false),
        ])

    /// A project and its owner, ready for pipelines.
    private func project(_ store: Store) async throws -> (User, Project) {
        let alice = try await store.makeUser("alice")
        return (alice, try await store.makePersonalProject("app", of: alice))
    }

    private func statuses(_ store: Store, _ pipeline: Pipeline) async throws -> [String: JobStatus] {
        Dictionary(uniqueKeysWithValues: try await store.jobs.jobs(pipelineID: pipeline.id).items.map { ($0.name, $0.status) })
    }

    /// Moves a job to a status as a runner would (the runner API is the lead's; the store only needs the row to change).
    private func finish(_ store: Store, _ job: Job, _ status: JobStatus) async throws {
        try await store.database.read { db in
            try await db.update("jobs").set("status", to: status.rawValue).where("id", .equal, job.id).run()
        }
        try await store.pipelines.advance(pipelineID: job.pipelineID)
    }

    private func job(_ store: Store, _ pipeline: Pipeline, _ name: String) async throws -> Job {
        try #require(try await store.jobs.jobs(pipelineID: pipeline.id).items.first { $0.name == name })
    }

    @Test("a new pipeline gets numbered per project, queues its first stage, and keeps later stages created", arguments: TestBackend.all)
    func creation(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let (alice, project) = try await project(store)
            let pipeline = try await store.pipelines.create(
                NewPipeline(
                    projectID: project.id, ref: "main", sha: Self.sha, source: .push, userID: alice.id, variables: [CIVariable(key: "A", value: "1")]),
                configuration: .success(Self.definition))
            #expect(pipeline.iid == 1)
            #expect(pipeline.status == .pending)
            #expect(pipeline.userID == alice.id)
            #expect(pipeline.variables == [CIVariable(key: "A", value: "1")])
            #expect(try await statuses(store, pipeline) == ["compile": .pending, "unit": .created, "lint": .created, "ship": .created])
            let jobs = try await store.jobs.jobs(pipelineID: pipeline.id).items
            #expect(jobs.allSatisfy { $0.userID == alice.id && $0.projectID == project.id })
            #expect(jobs.first { $0.name == "compile" }?.queuedAt != nil)
            #expect(jobs.map(\.stageIndex) == [0, 1, 1, 2])

            let second = try await store.pipelines.create(
                NewPipeline(projectID: project.id, ref: "main", sha: Self.sha, source: .api, userID: alice.id),
                configuration: .success(Self.definition))
            #expect(second.iid == 2)
            let failed = try await store.pipelines.create(
                NewPipeline(projectID: project.id, ref: "main", sha: Self.sha, source: .push, userID: alice.id),
                configuration: .failure(CIConfigError(messages: ["jobs:x config contains unknown keys: y"])))
            #expect(failed.status == .failed)
            #expect(failed.yamlErrors == "jobs:x config contains unknown keys: y")
            #expect(failed.finishedAt != nil)
            #expect(try await store.jobs.jobs(pipelineID: failed.id).items.isEmpty)
            let empty = try await store.pipelines.create(
                NewPipeline(projectID: project.id, ref: "main", sha: Self.sha, source: .push, userID: alice.id),
                configuration: .success(PipelineDefinition(stages: ["test"], variables: [], jobs: [])))
            #expect(empty.status == .skipped)

            let listed = try await store.pipelines.list(projectID: project.id, filter: PipelineFilter(), page: PageRequest())
            #expect(listed.items.map(\.id) == [empty.id, failed.id, second.id, pipeline.id])
            #expect(
                try await store.pipelines.list(projectID: project.id, filter: PipelineFilter(status: .failed), page: PageRequest()).items.map(\.id)
                    == [failed.id])
            #expect(
                try await store.pipelines.list(projectID: project.id, filter: PipelineFilter(source: .api), page: PageRequest()).items.map(\.id) == [
                    second.id
                ])
            #expect(try await store.pipelines.latest(projectID: project.id, ref: "main")?.id == empty.id)
        }
    }

    @Test("statuses progress stage by stage to a blocking manual job, then to success once it runs", arguments: TestBackend.all)
    func progression(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let (alice, project) = try await project(store)
            let pipeline = try await store.pipelines.create(
                NewPipeline(projectID: project.id, ref: "main", sha: Self.sha, source: .push, userID: alice.id),
                configuration: .success(Self.definition))
            try await finish(store, try await job(store, pipeline, "compile"), .running)
            #expect(try await store.pipelines.find(id: pipeline.id)?.status == .running)
            #expect(try await store.pipelines.find(id: pipeline.id)?.startedAt != nil)
            try await finish(store, try await job(store, pipeline, "compile"), .success)
            #expect(try await statuses(store, pipeline) == ["compile": .success, "unit": .pending, "lint": .pending, "ship": .created])
            try await finish(store, try await job(store, pipeline, "unit"), .success)
            try await finish(store, try await job(store, pipeline, "lint"), .failed)
            #expect(try await statuses(store, pipeline) == ["compile": .success, "unit": .success, "lint": .failed, "ship": .manual])
            #expect(try await store.pipelines.find(id: pipeline.id)?.status == .manual)

            let bob = try await store.makeUser("bob")
            let played = try #require(try await store.jobs.play(jobID: try await job(store, pipeline, "ship").id, userID: bob.id))
            #expect(played.status == .pending)
            #expect(played.userID == bob.id)
            #expect(try await store.jobs.play(jobID: played.id, userID: bob.id) == nil)
            try await finish(store, played, .success)
            let done = try #require(try await store.pipelines.find(id: pipeline.id))
            #expect(done.status == .success)
            #expect(done.finishedAt != nil)
        }
    }

    @Test("a failed stage skips later ones and fails the pipeline", arguments: TestBackend.all)
    func failure(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let (alice, project) = try await project(store)
            let pipeline = try await store.pipelines.create(
                NewPipeline(projectID: project.id, ref: "main", sha: Self.sha, source: .push, userID: alice.id),
                configuration: .success(Self.definition))
            try await finish(store, try await job(store, pipeline, "compile"), .failed)
            #expect(try await statuses(store, pipeline) == ["compile": .failed, "unit": .skipped, "lint": .skipped, "ship": .skipped])
            #expect(try await store.pipelines.find(id: pipeline.id)?.status == .failed)
        }
    }

    @Test("cancel takes waiting jobs to canceled and running ones to canceling; finished jobs stay", arguments: TestBackend.all)
    func cancel(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let (alice, project) = try await project(store)
            let pipeline = try await store.pipelines.create(
                NewPipeline(projectID: project.id, ref: "main", sha: Self.sha, source: .push, userID: alice.id),
                configuration: .success(Self.definition))
            let created = try await job(store, pipeline, "unit")
            #expect(try await store.jobs.cancel(jobID: created.id)?.status == .canceled)
            let compile = try await job(store, pipeline, "compile")
            try await finish(store, compile, .running)
            #expect(try await store.jobs.cancel(jobID: compile.id)?.status == .canceling)
            try await finish(store, compile, .canceled)
            #expect(try await store.jobs.cancel(jobID: compile.id) == nil)
            #expect(try await store.jobs.find(id: compile.id)?.status == .canceled)
            #expect(try await store.pipelines.find(id: pipeline.id)?.status == .canceled)
            #expect(try await store.jobs.cancel(jobID: 987_654) == nil)
        }
    }

    @Test(
        "retry makes a new job as the retrier, marks the old one retried, and refuses unfinished or already retried jobs", arguments: TestBackend.all)
    func retry(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let (alice, project) = try await project(store)
            let bob = try await store.makeUser("bob")
            let pipeline = try await store.pipelines.create(
                NewPipeline(projectID: project.id, ref: "main", sha: Self.sha, source: .push, userID: alice.id),
                configuration: .success(Self.definition))
            let compile = try await job(store, pipeline, "compile")
            #expect(try await store.jobs.retry(jobID: compile.id, userID: bob.id) == nil)
            try await finish(store, compile, .failed)
            #expect(try await store.pipelines.find(id: pipeline.id)?.status == .failed)

            let retried = try #require(try await store.jobs.retry(jobID: compile.id, userID: bob.id))
            #expect(retried.id != compile.id)
            #expect(retried.name == "compile")
            #expect(retried.userID == bob.id)
            #expect(retried.status == .pending)
            #expect(retried.definition == compile.definition)
            #expect(try await store.jobs.find(id: compile.id)?.retried == true)
            #expect(try await store.jobs.retry(jobID: compile.id, userID: bob.id) == nil)
            #expect(try await store.pipelines.find(id: pipeline.id)?.status == .pending)
            #expect(try await store.jobs.jobs(pipelineID: pipeline.id).items.count == 4)
            #expect(try await store.jobs.jobs(pipelineID: pipeline.id, filter: JobFilter(includeRetried: true)).items.count == 5)
            #expect(try await store.jobs.jobs(pipelineID: pipeline.id, filter: JobFilter(statuses: [.pending])).items.map(\.id) == [retried.id])
            let projectJobs = try await store.jobs.jobs(projectID: project.id, page: PageRequest())
            #expect(projectJobs.items.first?.id == retried.id)
            #expect(projectJobs.total == 5)

            // GitLab (Ci::ResetSkippedJobsService) puts the jobs the failure skipped back to created when a job is retried,
            // so they run once the retried job succeeds.
            try await finish(store, retried, .success)
            let afterSuccess = try await statuses(store, pipeline)
            #expect(afterSuccess["unit"] == .pending)
            #expect(afterSuccess["lint"] == .pending)
        }
    }

    @Test("claiming a due schedule run is compare-and-set: of two claims only one wins", arguments: TestBackend.all)
    func claimRun(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let (alice, project) = try await project(store)
            let due = Date(milliseconds: Date().milliseconds - 1_000)
            let schedule = try await store.schedules.create(
                projectID: project.id, description: "nightly", ref: "main", cron: "0 4 * * *", cronTimezone: "UTC", active: true, ownerID: alice.id,
                nextRunAt: due)
            let later = try await store.schedules.create(
                projectID: project.id, description: "later", ref: "main", cron: "0 4 * * *", cronTimezone: "UTC", active: true, ownerID: alice.id,
                nextRunAt: Date().addingTimeInterval(3600))
            _ = try await store.schedules.create(
                projectID: project.id, description: "off", ref: "main", cron: "0 4 * * *", cronTimezone: "UTC", active: false, ownerID: alice.id,
                nextRunAt: due)
            #expect(try await store.schedules.due(now: Date()).map(\.id) == [schedule.id])

            let next = due.addingTimeInterval(86_400)
            async let first = store.schedules.claimRun(id: schedule.id, expected: due, next: next)
            async let second = store.schedules.claimRun(id: schedule.id, expected: due, next: next)
            let wins = try await [first, second].filter { $0 }.count
            #expect(wins == 1)
            #expect(try await store.schedules.claimRun(id: schedule.id, expected: due, next: next) == false)
            #expect(try await store.schedules.find(id: schedule.id, projectID: project.id)?.nextRunAt == next)
            #expect(try await store.schedules.due(now: Date()).isEmpty)
            #expect(try await store.schedules.find(id: later.id, projectID: project.id + 1) == nil)
            #expect(try await store.schedules.list(projectID: project.id, active: true, page: PageRequest()).items.count == 2)
        }
    }
}
