import Foundation
import LatchkeyCore
import LatchkeyStore

/// A namespace as embedded in projects.
struct NamespaceEntity: Encodable, Sendable {
    var id: Int64
    var name: String
    var path: String
    var kind: String
    var fullPath: String
    @Nullable var parentId: Int64?
    @Nullable var avatarUrl: String?
    var webUrl: String

    init(_ namespace: Namespace, parentID: Int64? = nil, baseURL: String) {
        id = namespace.id
        name = namespace.name
        path = namespace.path
        kind = namespace.kind.rawValue
        fullPath = namespace.fullPath
        parentId = parentID
        avatarUrl = nil
        webUrl = namespace.kind == .group ? "\(baseURL)/groups/\(namespace.fullPath)" : "\(baseURL)/\(namespace.fullPath)"
    }
}

/// GitLab's `Project` entity (the fields clients read).
struct ProjectEntity: Encodable, Sendable {
    var id: Int64
    var description: String
    var name: String
    var nameWithNamespace: String
    var path: String
    var pathWithNamespace: String
    var createdAt: Date
    var defaultBranch: String
    var tagList: [String] = []
    var topics: [String] = []
    var sshUrlToRepo: String
    var httpUrlToRepo: String
    var webUrl: String
    @Nullable var readmeUrl: String?
    @Nullable var avatarUrl: String?
    var forksCount = 0
    var starCount = 0
    var lastActivityAt: Date
    var namespace: NamespaceEntity
    var visibility: String
    var archived = false
    var emptyRepo: Bool
    var creatorId: Int64
    var ciJobTokenScopeEnabled: Bool
    var ciInboundJobTokenScopeEnabled: Bool
    var ciPushRepositoryForJobTokenAllowed: Bool
    /// Latchkey's: the most the project's job tokens may use whatever `permissions:` asks (`{"packages": "read"}`); null for no ceiling.
    @Nullable var ciJobTokenPermissionsCeiling: [String: String]?
    var jobsEnabled = true
    var buildsAccessLevel = "enabled"
    var repositoryAccessLevel = "enabled"
    var publicJobs = true
    var owner: UserBasicEntity?
    var permissions: Permissions?

    struct Permissions: Encodable, Sendable {
        struct Access: Encodable, Sendable {
            var accessLevel: Int
            var notificationLevel = 3
        }
        @Nullable var projectAccess: Access?
        @Nullable var groupAccess: Access?
    }

    init(_ project: Project, baseURL: String, emptyRepo: Bool, owner: User? = nil, memberLevel: AccessLevel? = nil) {
        id = project.id
        description = project.description
        name = project.name
        nameWithNamespace = project.nameWithNamespace
        path = project.path
        pathWithNamespace = project.fullPath
        createdAt = project.createdAt
        defaultBranch = project.defaultBranch
        let host = URL(string: baseURL)?.host ?? "localhost"
        sshUrlToRepo = "git@\(host):\(project.fullPath).git"
        httpUrlToRepo = "\(baseURL)/\(project.fullPath).git"
        webUrl = "\(baseURL)/\(project.fullPath)"
        readmeUrl = nil
        avatarUrl = nil
        lastActivityAt = project.lastActivityAt
        namespace = NamespaceEntity(project.namespace, baseURL: baseURL)
        visibility = project.visibility.rawValue
        self.emptyRepo = emptyRepo
        creatorId = project.creatorID
        ciJobTokenScopeEnabled = project.jobTokenOutboundEnabled
        ciInboundJobTokenScopeEnabled = project.jobTokenInboundEnabled
        ciPushRepositoryForJobTokenAllowed = project.jobTokenPushAllowed
        ciJobTokenPermissionsCeiling = project.jobTokenPermissionsCeiling?.byName
        self.owner = owner.map { UserBasicEntity($0, baseURL: baseURL) }
        if let memberLevel {
            permissions = Permissions(projectAccess: Permissions.Access(accessLevel: memberLevel.rawValue), groupAccess: nil)
        }
    }
}

/// GitLab's `Group` entity.
struct GroupEntity: Encodable, Sendable {
    var id: Int64
    var webUrl: String
    var name: String
    var path: String
    var description: String
    var visibility: String
    var fullName: String
    var fullPath: String
    @Nullable var parentId: Int64?
    var createdAt: Date
    @Nullable var avatarUrl: String?
    var projectCreationLevel = "developer"
    var subgroupCreationLevel = "maintainer"
    var requestAccessEnabled = false
    var lfsEnabled = false

    init(_ group: Group, baseURL: String) {
        id = group.id
        webUrl = "\(baseURL)/groups/\(group.fullPath)"
        name = group.name
        path = group.path
        description = group.description
        visibility = group.visibility.rawValue
        fullName = group.fullName
        fullPath = group.fullPath
        parentId = group.parentID
        createdAt = group.createdAt
        avatarUrl = nil
    }
}

/// A member of a group or project.
struct MemberEntity: Encodable, Sendable {
    var id: Int64
    var username: String
    var name: String
    var state: String
    var locked = false
    @Nullable var avatarUrl: String?
    var webUrl: String
    var accessLevel: Int
    var createdAt: Date
    @Nullable var expiresAt: String?
    var membershipState = "active"

    init(_ member: Member, baseURL: String) {
        id = member.user.id
        username = member.user.username
        name = member.user.name
        state = member.user.state
        avatarUrl = nil
        webUrl = "\(baseURL)/\(member.user.username)"
        accessLevel = member.membership.accessLevel.rawValue
        createdAt = member.membership.createdAt
        expiresAt = member.membership.expiresAt
    }
}
