import Foundation
import LatchkeyCore

/// GitLab's `PipelineBasic`.
struct PipelineBasicEntity: Encodable, Sendable {
    var id: Int64
    var iid: Int64
    var projectId: Int64
    var sha: String
    var ref: String
    var status: String
    var source: String
    var createdAt: Date
    var updatedAt: Date
    var webUrl: String
    @Nullable var name: String?

    init(_ pipeline: Pipeline, projectPath: String, baseURL: String) {
        name = pipeline.name
        id = pipeline.id
        iid = pipeline.iid
        projectId = pipeline.projectID
        sha = pipeline.sha
        ref = pipeline.ref
        status = pipeline.status.rawValue
        source = pipeline.source.rawValue
        createdAt = pipeline.createdAt
        updatedAt = pipeline.updatedAt
        webUrl = "\(baseURL)/\(projectPath)/-/pipelines/\(pipeline.id)"
    }
}

/// GitLab's `Pipeline` (detail) entity.
struct PipelineEntity: Encodable, Sendable {
    var id: Int64
    var iid: Int64
    var projectId: Int64
    var sha: String
    var ref: String
    var status: String
    var source: String
    var createdAt: Date
    var updatedAt: Date
    var webUrl: String
    @Nullable var name: String?
    var beforeSha: String
    var tag: Bool
    @Nullable var yamlErrors: String?
    @Nullable var user: UserBasicEntity?
    @Nullable var startedAt: Date?
    @Nullable var finishedAt: Date?
    @Nullable var committedAt: Date?
    @Nullable var duration: Int?
    @Nullable var queuedDuration: Double?
    @Nullable var coverage: String?
    var detailedStatus: DetailedStatus

    struct DetailedStatus: Encodable, Sendable {
        var icon: String
        var text: String
        var label: String
        var group: String
        var hasDetails = true
        var detailsPath: String
    }

    init(_ pipeline: Pipeline, projectPath: String, user: User?, baseURL: String) {
        let basic = PipelineBasicEntity(pipeline, projectPath: projectPath, baseURL: baseURL)
        id = basic.id
        iid = basic.iid
        projectId = basic.projectId
        sha = basic.sha
        ref = basic.ref
        status = basic.status
        source = basic.source
        createdAt = basic.createdAt
        updatedAt = basic.updatedAt
        webUrl = basic.webUrl
        name = basic.name
        beforeSha = pipeline.beforeSHA
        tag = pipeline.isTag
        yamlErrors = pipeline.yamlErrors
        self.user = user.map { UserBasicEntity($0, baseURL: baseURL) }
        startedAt = pipeline.startedAt
        finishedAt = pipeline.finishedAt
        committedAt = nil
        duration = pipeline.duration.map { Int($0.rounded()) }
        queuedDuration = pipeline.startedAt.map { $0.timeIntervalSince(pipeline.createdAt) }
        coverage = nil
        detailedStatus = DetailedStatus(
            icon: "status_\(pipeline.status.rawValue)", text: pipeline.status.rawValue, label: pipeline.status.rawValue, group: pipeline.status.rawValue,
            detailsPath: "/\(projectPath)/-/pipelines/\(pipeline.id)")
    }
}

/// GitLab's `Job` entity.
struct JobEntity: Encodable, Sendable {
    var id: Int64
    var status: String
    var stage: String
    var name: String
    var ref: String
    var tag: Bool
    @Nullable var coverage: Double?
    var allowFailure: Bool
    var createdAt: Date
    @Nullable var startedAt: Date?
    @Nullable var finishedAt: Date?
    @Nullable var erasedAt: Date?
    @Nullable var duration: Double?
    @Nullable var queuedDuration: Double?
    @Nullable var user: UserEntity?
    var commit: RepositoryCommitEntity
    var pipeline: PipelineBasicEntity
    var webUrl: String
    var project: ProjectRef
    var artifacts: [ArtifactEntity] = []
    @Nullable var artifactsFile: ArtifactsFileEntity?
    @Nullable var runner: RunnersAPIController.RunnerEntity?
    @Nullable var artifactsExpireAt: Date?
    var tagList: [String]
    @Nullable var failureReason: String?
    var retried: Bool
    var archived = false

    struct ProjectRef: Encodable, Sendable {
        var ciJobTokenScopeEnabled: Bool
    }

    /// One of the job's artifacts, as GitLab lists them.
    struct ArtifactEntity: Encodable, Sendable {
        var fileType: String
        var size: Int64
        var filename: String
        var fileFormat: String
    }

    /// The archive (`artifacts_file`), the one artifacts download serves.
    struct ArtifactsFileEntity: Encodable, Sendable {
        var filename: String
        var size: Int64
    }

    /// The job with what GitLab's entity shows beside it: the commit, the runner that took it and its artifacts.
    init(
        _ job: Job, pipeline: Pipeline, project: Project, user: User?, commit: GitCommit?, runner: Runner?, artifacts: [JobArtifact], baseURL: String,
        now: Date = Date()
    ) {
        self.init(job, pipeline: pipeline, project: project, user: user, baseURL: baseURL)
        self.commit = RepositoryCommitEntity(commit, sha: pipeline.sha, webURL: "\(baseURL)/\(project.fullPath)/-/commit/\(pipeline.sha)")
        self.runner = runner.map { RunnersAPIController.RunnerEntity($0, now: now) }
        let live = artifacts.filter { ($0.expireAt ?? .distantFuture) > now }
        self.artifacts = live.map { ArtifactEntity(fileType: $0.fileType, size: $0.size, filename: $0.filename, fileFormat: $0.fileFormat) }
        if let archive = live.first(where: { $0.fileType == "archive" }) {
            artifactsFile = ArtifactsFileEntity(filename: archive.filename, size: archive.size)
            artifactsExpireAt = archive.expireAt
        }
    }

    init(_ job: Job, pipeline: Pipeline, project: Project, user: User?, baseURL: String) {
        id = job.id
        status = job.status.rawValue
        stage = job.stage
        name = job.name
        ref = pipeline.ref
        tag = pipeline.isTag
        coverage = nil
        allowFailure = job.definition.allowFailure
        createdAt = job.createdAt
        startedAt = job.startedAt
        finishedAt = job.finishedAt
        erasedAt = nil
        duration = job.duration
        queuedDuration = job.queuedAt.map { ($0 < (job.startedAt ?? Date()) ? (job.startedAt ?? Date()) : $0).timeIntervalSince($0) }
        self.user = user.map { UserEntity($0, baseURL: baseURL) }
        commit = RepositoryCommitEntity(nil, sha: pipeline.sha, webURL: "\(baseURL)/\(project.fullPath)/-/commit/\(pipeline.sha)")
        self.pipeline = PipelineBasicEntity(pipeline, projectPath: project.fullPath, baseURL: baseURL)
        webUrl = "\(baseURL)/\(project.fullPath)/-/jobs/\(job.id)"
        self.project = ProjectRef(ciJobTokenScopeEnabled: project.jobTokenOutboundEnabled)
        runner = nil
        artifactsExpireAt = nil
        tagList = job.definition.tags
        failureReason = job.failureReason
        retried = job.retried
    }
}

/// GitLab's `PipelineSchedule` entity.
struct PipelineScheduleEntity: Encodable, Sendable {
    var id: Int64
    var description: String
    var ref: String
    var cron: String
    var cronTimezone: String
    @Nullable var nextRunAt: Date?
    var active: Bool
    var createdAt: Date
    var updatedAt: Date
    var owner: UserBasicEntity?
    var lastPipeline: PipelineBasicEntity?
    var variables: [Variable]?

    struct Variable: Encodable, Sendable {
        var key: String
        var value: String
        var variableType = "env_var"
        var raw = false
    }

    init(_ schedule: PipelineSchedule, owner: User?, baseURL: String, lastPipeline: PipelineBasicEntity? = nil, detailed: Bool = false) {
        id = schedule.id
        description = schedule.description
        ref = schedule.ref
        cron = schedule.cron
        cronTimezone = schedule.cronTimezone
        nextRunAt = schedule.nextRunAt
        active = schedule.active
        createdAt = schedule.createdAt
        updatedAt = schedule.updatedAt
        self.owner = owner.map { UserBasicEntity($0, baseURL: baseURL) }
        self.lastPipeline = lastPipeline
        variables = detailed ? schedule.variables.map { Variable(key: $0.key, value: $0.value) } : nil
    }
}
