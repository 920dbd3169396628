import Foundation

/// What made a pipeline (GitLab's `source` values).
public enum PipelineSource: String, Codable, Sendable, CaseIterable {
    case push
    case web
    case api
    case trigger
    case schedule
    case pipeline
    case parentPipeline = "parent_pipeline"
}

/// A pipeline: one run of a project's CI configuration at a commit.
public struct Pipeline: Sendable, Equatable {
    public var id: Int64
    public var iid: Int64
    public var projectID: Int64
    public var ref: String
    public var sha: String
    public var beforeSHA: String
    public var isTag: Bool
    public var source: PipelineSource
    public var status: PipelineStatus
    /// The user who caused it; jobs act as this user.
    public var userID: Int64?
    public var scheduleID: Int64?
    /// The job whose token triggered this pipeline, for `source: pipeline`.
    public var upstreamJobID: Int64?
    public var yamlErrors: String?
    public var variables: [CIVariable]
    public var createdAt: Date
    public var updatedAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    /// `workflow:name` as expanded when the pipeline was made, or the name set later through the metadata API.
    public var name: String?

    /// The longest name kept (GitLab's column limit).
    public static let maximumNameLength = 255

    public init(
        id: Int64, iid: Int64, projectID: Int64, ref: String, sha: String, beforeSHA: String, isTag: Bool, source: PipelineSource, status: PipelineStatus,
        userID: Int64?, scheduleID: Int64?, upstreamJobID: Int64?, yamlErrors: String?, variables: [CIVariable], createdAt: Date, updatedAt: Date,
        startedAt: Date?, finishedAt: Date?, name: String? = nil
    ) {
        self.name = name
        self.id = id
        self.iid = iid
        self.projectID = projectID
        self.ref = ref
        self.sha = sha
        self.beforeSHA = beforeSHA
        self.isTag = isTag
        self.source = source
        self.status = status
        self.userID = userID
        self.scheduleID = scheduleID
        self.upstreamJobID = upstreamJobID
        self.yamlErrors = yamlErrors
        self.variables = variables
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }

    /// Seconds from start to finish, when both are known.
    public var duration: Double? {
        guard let startedAt, let finishedAt else { return nil }
        return finishedAt.timeIntervalSince(startedAt)
    }
}

/// A job: one `JobDefinition` of a pipeline, run (at most) once; a retry is a new job.
public struct Job: Sendable, Equatable {
    public var id: Int64
    public var pipelineID: Int64
    public var projectID: Int64
    public var name: String
    public var stage: String
    public var stageIndex: Int
    public var status: JobStatus
    public var definition: JobDefinition
    /// The user the job acts as (the pipeline's, or who played or retried it).
    public var userID: Int64?
    public var retried: Bool
    public var runnerID: Int64?
    public var failureReason: String?
    public var createdAt: Date
    public var queuedAt: Date?
    public var startedAt: Date?
    public var finishedAt: Date?
    public var updatedAt: Date
    /// When a `scheduled` (delayed) job becomes pending.
    public var scheduledAt: Date?

    public init(
        id: Int64, pipelineID: Int64, projectID: Int64, name: String, stage: String, stageIndex: Int, status: JobStatus, definition: JobDefinition,
        userID: Int64?, retried: Bool, runnerID: Int64?, failureReason: String?, createdAt: Date, queuedAt: Date?, startedAt: Date?, finishedAt: Date?,
        updatedAt: Date
    ) {
        self.id = id
        self.pipelineID = pipelineID
        self.projectID = projectID
        self.name = name
        self.stage = stage
        self.stageIndex = stageIndex
        self.status = status
        self.definition = definition
        self.userID = userID
        self.retried = retried
        self.runnerID = runnerID
        self.failureReason = failureReason
        self.createdAt = createdAt
        self.queuedAt = queuedAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.updatedAt = updatedAt
    }

    public var duration: Double? {
        guard let startedAt else { return nil }
        return (finishedAt ?? Date()).timeIntervalSince(startedAt)
    }

    /// The job as pipeline progression sees it.
    public var progression: ProgressionJob {
        ProgressionJob(name: name, stageIndex: stageIndex, needs: definition.needs, when: definition.when, allowFailure: definition.allowFailure, status: status)
    }
}
