import Foundation

/// A registered runner: what jobs it may take (tags) and when it last asked.
public struct Runner: Sendable, Equatable {
    public var id: Int64
    public var description: String
    public var tags: [String]
    public var runUntagged: Bool
    public var locked: Bool
    public var active: Bool
    /// Started by `latchkey serve --runners N`.
    public var embedded: Bool
    public var version: String
    public var contactedAt: Date?
    public var createdAt: Date
    /// What the runner's token is derived from (with the server secret).
    public var tokenNonce: String

    public init(
        id: Int64, description: String, tags: [String], runUntagged: Bool, locked: Bool, active: Bool, embedded: Bool, version: String, contactedAt: Date?,
        createdAt: Date, tokenNonce: String
    ) {
        self.tokenNonce = tokenNonce
        self.id = id
        self.description = description
        self.tags = tags
        self.runUntagged = runUntagged
        self.locked = locked
        self.active = active
        self.embedded = embedded
        self.version = version
        self.contactedAt = contactedAt
        self.createdAt = createdAt
    }

    /// Whether this runner may run a job with these tags (GitLab: every job tag must be a runner tag; untagged jobs need `run_untagged`).
    public func canRun(tags jobTags: [String]) -> Bool {
        guard active else { return false }
        if jobTags.isEmpty { return runUntagged }
        return Set(jobTags).isSubset(of: Set(tags))
    }
}

/// A project CI/CD variable.
public struct ProjectVariable: Sendable, Equatable {
    public var key: String
    public var value: String
    /// `env_var` or `file`.
    public var variableType: String
    public var masked: Bool
    public var protected: Bool
    public var raw: Bool
    public var environmentScope: String
    public var description: String?
    /// GitLab's "masked and hidden": chosen at creation only, implies `masked`, and the value is never shown again.
    public var hidden: Bool

    public init(
        key: String, value: String, variableType: String = "env_var", masked: Bool = false, protected: Bool = false, raw: Bool = false,
        environmentScope: String = "*", description: String? = nil, hidden: Bool = false
    ) {
        self.key = key
        self.value = value
        self.variableType = variableType
        self.masked = masked || hidden
        self.hidden = hidden
        self.protected = protected
        self.raw = raw
        self.environmentScope = environmentScope
        self.description = description
    }

    /// Why a value cannot be masked, or nil if it can. Short values would turn the log into an oracle; multi-line ones cannot be matched reliably.
    public static func maskingProblem(_ value: String) -> String? {
        if value.utf8.count < 8 { return "must be at least 8 characters long to be masked" }
        if value.contains(where: \.isNewline) { return "must be a single line to be masked" }
        return nil
    }
}

/// A job's uploaded artifacts archive.
public struct JobArtifact: Sendable, Equatable {
    public var id: Int64
    public var jobID: Int64
    public var projectID: Int64
    public var fileType: String
    public var fileFormat: String
    public var filename: String
    public var size: Int64
    /// Relative to the data directory's artifact store.
    public var storagePath: String
    public var expireAt: Date?
    public var createdAt: Date

    public init(
        id: Int64, jobID: Int64, projectID: Int64, fileType: String, fileFormat: String, filename: String, size: Int64, storagePath: String, expireAt: Date?,
        createdAt: Date
    ) {
        self.id = id
        self.jobID = jobID
        self.projectID = projectID
        self.fileType = fileType
        self.fileFormat = fileFormat
        self.filename = filename
        self.size = size
        self.storagePath = storagePath
        self.expireAt = expireAt
        self.createdAt = createdAt
    }
}
