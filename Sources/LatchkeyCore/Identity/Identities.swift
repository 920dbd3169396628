import Foundation

/// A person or bot who signs in, owns namespaces and causes jobs.
public struct User: Sendable, Equatable, Codable {
    public var id: Int64
    public var username: String
    public var name: String
    public var email: String
    public var isAdmin: Bool
    public var isBlocked: Bool
    public var createdAt: Date
    /// A project access token's bot: a member of that one project, with no namespace, that may not create groups or sign in.
    public var isBot: Bool = false

    public init(id: Int64, username: String, name: String, email: String, isAdmin: Bool, isBlocked: Bool, createdAt: Date, isBot: Bool = false) {
        self.id = id
        self.username = username
        self.name = name
        self.email = email
        self.isAdmin = isAdmin
        self.isBlocked = isBlocked
        self.createdAt = createdAt
        self.isBot = isBot
    }

    /// The state GitLab reports (`active` or `blocked`).
    public var state: String { isBlocked ? "blocked" : "active" }
}

/// A group (or subgroup) that holds projects and members.
public struct Group: Sendable, Equatable, Codable {
    public var id: Int64
    public var name: String
    public var path: String
    public var fullPath: String
    public var fullName: String
    public var parentID: Int64?
    public var visibility: Visibility
    public var description: String
    public var createdAt: Date

    public init(
        id: Int64, name: String, path: String, fullPath: String, fullName: String, parentID: Int64?, visibility: Visibility,
        description: String, createdAt: Date
    ) {
        self.id = id
        self.name = name
        self.path = path
        self.fullPath = fullPath
        self.fullName = fullName
        self.parentID = parentID
        self.visibility = visibility
        self.description = description
        self.createdAt = createdAt
    }
}

/// Where a project lives: a user's personal namespace or a group.
public enum NamespaceKind: String, Codable, Sendable {
    case user
    case group
}

/// A namespace as projects refer to it.
public struct Namespace: Sendable, Equatable, Codable {
    public var id: Int64
    public var kind: NamespaceKind
    public var name: String
    public var path: String
    public var fullPath: String
    /// The group, when the namespace is a group.
    public var groupID: Int64?
    /// The owner, when the namespace is a user's.
    public var ownerID: Int64?

    public init(id: Int64, kind: NamespaceKind, name: String, path: String, fullPath: String, groupID: Int64?, ownerID: Int64?) {
        self.id = id
        self.kind = kind
        self.name = name
        self.path = path
        self.fullPath = fullPath
        self.groupID = groupID
        self.ownerID = ownerID
    }
}

/// A project: a repository with CI, members and settings.
public struct Project: Sendable, Equatable, Codable {
    public var id: Int64
    public var name: String
    public var path: String
    public var namespace: Namespace
    public var visibility: Visibility
    public var description: String
    public var defaultBranch: String
    public var creatorID: Int64
    public var createdAt: Date
    public var lastActivityAt: Date
    /// "Limit access to this project" for job tokens (on for new projects).
    public var jobTokenInboundEnabled: Bool
    /// The legacy "Limit access from this project" switch.
    public var jobTokenOutboundEnabled: Bool
    /// Whether a job token may push to this project's own repository.
    public var jobTokenPushAllowed: Bool
    /// Whether the repository has no branches, as recorded when a push last landed; nil until it is first recorded.
    public var repositoryEmpty: Bool?
    /// The commit the default branch pointed at when a push last landed; nil without one (or not recorded yet).
    public var repositoryHeadSHA: String?
    /// The most its jobs' tokens may use whatever their `permissions:` ask; nil when the project sets no ceiling.
    public var jobTokenPermissionsCeiling: JobTokenPermissions?

    public init(
        id: Int64, name: String, path: String, namespace: Namespace, visibility: Visibility, description: String, defaultBranch: String,
        creatorID: Int64, createdAt: Date, lastActivityAt: Date, jobTokenInboundEnabled: Bool = true, jobTokenOutboundEnabled: Bool = false,
        jobTokenPushAllowed: Bool = false, repositoryEmpty: Bool? = nil, repositoryHeadSHA: String? = nil
    ) {
        self.id = id
        self.name = name
        self.path = path
        self.namespace = namespace
        self.visibility = visibility
        self.description = description
        self.defaultBranch = defaultBranch
        self.creatorID = creatorID
        self.createdAt = createdAt
        self.lastActivityAt = lastActivityAt
        self.jobTokenInboundEnabled = jobTokenInboundEnabled
        self.jobTokenOutboundEnabled = jobTokenOutboundEnabled
        self.jobTokenPushAllowed = jobTokenPushAllowed
        self.repositoryEmpty = repositoryEmpty
        self.repositoryHeadSHA = repositoryHeadSHA
    }

    public var fullPath: String { "\(namespace.fullPath)/\(path)" }
    public var nameWithNamespace: String { "\(namespace.name) / \(name)" }
}

/// A membership row: a user's level on one group or project.
public struct Membership: Sendable, Equatable, Codable {
    public var userID: Int64
    public var accessLevel: AccessLevel
    public var expiresAt: String?
    public var createdAt: Date

    public init(userID: Int64, accessLevel: AccessLevel, expiresAt: String? = nil, createdAt: Date) {
        self.userID = userID
        self.accessLevel = accessLevel
        self.expiresAt = expiresAt
        self.createdAt = createdAt
    }
}
