import Foundation
import LatchkeyCore
import LatchkeyStore

/// Builds GitLab's job entities with what they show beside the job (its commit, runner and artifacts), each commit, runner and
/// user looked up once per request however many jobs share it.
struct JobEntities {
    let store: Store
    let repositories: RepositoryStore
    let baseURL: String
    private var users: UserCache
    private var commits: [String: GitCommit?] = [:]
    private var runners: [Int64: Runner?] = [:]
    private var pipelines: [Int64: Pipeline?] = [:]

    init(store: Store, repositories: RepositoryStore, baseURL: String) {
        self.store = store
        self.repositories = repositories
        self.baseURL = baseURL
        users = UserCache(store: store)
    }

    /// The job's entity; nil when its pipeline is gone.
    mutating func entity(_ job: Job, project: Project, user: User? = nil) async throws -> JobEntity? {
        guard let pipeline = try await pipeline(job.pipelineID) else { return nil }
        return try await entity(job, pipeline: pipeline, project: project, user: user)
    }

    mutating func entity(_ job: Job, pipeline: Pipeline, project: Project, user: User? = nil) async throws -> JobEntity {
        let shownUser: User? = if let user { user } else { try await users.user(job.userID) }
        if commits[pipeline.sha] == nil { commits[pipeline.sha] = await repositories.commit(projectID: project.id, sha: pipeline.sha) }
        var runner: Runner?
        if let runnerID = job.runnerID {
            if runners[runnerID] == nil { runners[runnerID] = try await store.runners.find(id: runnerID) }
            runner = runners[runnerID] ?? nil
        }
        let artifacts = try await store.artifacts.artifacts(jobID: job.id)
        return JobEntity(
            job, pipeline: pipeline, project: project, user: shownUser, commit: commits[pipeline.sha] ?? nil, runner: runner, artifacts: artifacts,
            baseURL: baseURL)
    }

    private mutating func pipeline(_ id: Int64) async throws -> Pipeline? {
        if let cached = pipelines[id] { return cached }
        let found = try await store.pipelines.find(id: id)
        pipelines[id] = found
        return found
    }
}
