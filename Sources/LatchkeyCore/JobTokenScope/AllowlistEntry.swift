import Foundation

/// Which list of a project an entry belongs to.
public enum AllowlistDirection: String, Codable, Sendable {
    /// "Authorized groups and projects": who may reach this project with a job token.
    case inbound
    /// The legacy "Limit access from this project" list: where this project's job tokens may go.
    case outbound
}

/// What an allowlist entry names.
public enum AllowlistTarget: Sendable, Equatable {
    case project(Project)
    case group(Group)

    public var fullPath: String {
        switch self {
        case .project(let project): project.fullPath
        case .group(let group): group.fullPath
        }
    }
}

/// One entry of a project's job token allowlist, with who added it and what it grants.
public struct AllowlistEntry: Sendable, Equatable {
    /// The project whose list this is.
    public var sourceProjectID: Int64
    public var target: AllowlistTarget
    public var direction: AllowlistDirection
    public var grant: AllowlistGrant
    public var autopopulated: Bool
    public var addedByID: Int64?
    public var createdAt: Date

    public init(
        sourceProjectID: Int64, target: AllowlistTarget, direction: AllowlistDirection, grant: AllowlistGrant, autopopulated: Bool, addedByID: Int64?,
        createdAt: Date
    ) {
        self.sourceProjectID = sourceProjectID
        self.target = target
        self.direction = direction
        self.grant = grant
        self.autopopulated = autopopulated
        self.addedByID = addedByID
        self.createdAt = createdAt
    }
}

/// Limits GitLab puts on allowlists (separate counters for projects and groups).
public enum AllowlistLimits {
    public static let projects = 200
    public static let groups = 200
}

/// One origin in a project's job token authentication log.
public struct JobTokenAuthorization: Sendable, Equatable {
    public var originProject: Project
    public var lastAuthorizedAt: Date

    public init(originProject: Project, lastAuthorizedAt: Date) {
        self.originProject = originProject
        self.lastAuthorizedAt = lastAuthorizedAt
    }
}

/// A recorded change, with GitLab's audit event names.
public struct AuditEvent: Sendable, Equatable {
    public var id: Int64
    public var entityType: String
    public var entityID: Int64
    public var authorID: Int64?
    public var eventName: String
    public var details: [String: String]
    public var createdAt: Date

    public init(id: Int64, entityType: String, entityID: Int64, authorID: Int64?, eventName: String, details: [String: String], createdAt: Date) {
        self.id = id
        self.entityType = entityType
        self.entityID = entityID
        self.authorID = authorID
        self.eventName = eventName
        self.details = details
        self.createdAt = createdAt
    }
}
