import Foundation

/// Where a project deploys: made by the first job that names it, or through the API.
public struct DeploymentEnvironment: Sendable, Equatable {
    public var id: Int64
    public var projectID: Int64
    public var name: String
    public var slug: String
    public var externalURL: String?
    public var tier: EnvironmentTier
    public var state: EnvironmentState
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: Int64, projectID: Int64, name: String, slug: String, externalURL: String?, tier: EnvironmentTier, state: EnvironmentState, createdAt: Date,
        updatedAt: Date
    ) {
        self.id = id
        self.projectID = projectID
        self.name = name
        self.slug = slug
        self.externalURL = externalURL
        self.tier = tier
        self.state = state
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// GitLab's environment states.
public enum EnvironmentState: String, Sendable, Codable, CaseIterable {
    case available, stopping, stopped

    /// One job's part in an environment's history, as `derive` reads it.
    public struct Event: Sendable, Equatable {
        public var action: CIEnvironment.Action
        /// A stop job waiting for a runner counts as running; one waiting for a person (manual) as created.
        public var status: DeploymentStatus
        /// When it last moved: finished, else started, else created.
        public var at: Date

        public init(action: CIEnvironment.Action, status: DeploymentStatus, at: Date) {
            self.action = action
            self.status = status
            self.at = at
        }
    }

    /// The state from what happened, so no job transition anywhere has to remember to update it: stopped once a stop (a
    /// succeeded `action: stop` job, or the API's stop) is at least as recent as the last deployment that started; stopping
    /// while a stop job newer than that runs or waits for a runner; else available.
    public static func derive(stoppedAt: Date?, events: [Event]) -> EnvironmentState {
        let lastStart = events.filter { $0.action == .start && ($0.status == .running || $0.status == .success) }.map(\.at).max()
        let stops = events.filter { $0.action == .stop }
        let lastStop = (stops.filter { $0.status == .success }.map(\.at) + [stoppedAt].compactMap { $0 }).max()
        if let lastStop, lastStop >= (lastStart ?? .distantPast) { return .stopped }
        if stops.contains(where: { $0.status == .running && $0.at >= (lastStart ?? .distantPast) }) { return .stopping }
        return .available
    }
}

/// One deployment to an environment: by a job with `environment:` (its status follows the job's), or recorded through the API.
public struct Deployment: Sendable, Equatable {
    public var id: Int64
    public var iid: Int64
    public var projectID: Int64
    public var environmentID: Int64
    public var jobID: Int64?
    public var ref: String
    public var sha: String
    public var isTag: Bool
    public var userID: Int64?
    public var status: DeploymentStatus
    public var createdAt: Date
    public var updatedAt: Date
    public var finishedAt: Date?

    public init(
        id: Int64, iid: Int64, projectID: Int64, environmentID: Int64, jobID: Int64?, ref: String, sha: String, isTag: Bool, userID: Int64?,
        status: DeploymentStatus, createdAt: Date, updatedAt: Date, finishedAt: Date?
    ) {
        self.id = id
        self.iid = iid
        self.projectID = projectID
        self.environmentID = environmentID
        self.jobID = jobID
        self.ref = ref
        self.sha = sha
        self.isTag = isTag
        self.userID = userID
        self.status = status
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.finishedAt = finishedAt
    }
}

/// GitLab's deployment statuses.
public enum DeploymentStatus: String, Sendable, Codable, CaseIterable {
    case created, running, success, failed, canceled, skipped, blocked

    /// The status of a deployment made by a job in `status`.
    public init(job status: JobStatus) {
        switch status {
        case .running: self = .running
        case .success: self = .success
        case .failed: self = .failed
        case .canceled, .canceling: self = .canceled
        case .skipped: self = .skipped
        default: self = .created
        }
    }

    /// What the deployments API lets a client set on a deployment it recorded (GitLab's `Deployments::UpdateService`).
    public static let settable: [DeploymentStatus] = [.running, .success, .failed, .canceled]

    public var isFinished: Bool { self == .success || self == .failed || self == .canceled || self == .skipped }
}
