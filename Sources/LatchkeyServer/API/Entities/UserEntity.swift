import Foundation
import LatchkeyCore

/// GitLab's `UserBasic`: what others see of a user.
struct UserBasicEntity: Encodable, Sendable {
    var id: Int64
    var username: String
    var name: String
    var state: String
    var locked: Bool
    @Nullable var avatarUrl: String?
    var webUrl: String

    init(_ user: User, baseURL: String) {
        id = user.id
        username = user.username
        name = user.name
        state = user.state
        locked = false
        avatarUrl = nil
        webUrl = "\(baseURL)/\(user.username)"
    }
}

/// GitLab's `UserPublic`/admin view: the user as they or an administrator see it.
struct UserEntity: Encodable, Sendable {
    var id: Int64
    var username: String
    var name: String
    var state: String
    var locked: Bool
    @Nullable var avatarUrl: String?
    var webUrl: String
    var createdAt: Date
    var bio: String
    var email: String
    var publicEmail: String
    var isAdmin: Bool
    var canCreateGroup: Bool
    var canCreateProject: Bool
    var twoFactorEnabled: Bool
    var external: Bool
    var bot: Bool
    var namespaceId: Int64?

    init(_ user: User, baseURL: String, namespaceID: Int64? = nil) {
        id = user.id
        username = user.username
        name = user.name
        state = user.state
        locked = false
        avatarUrl = nil
        webUrl = "\(baseURL)/\(user.username)"
        createdAt = user.createdAt
        bio = ""
        email = user.email
        publicEmail = ""
        isAdmin = user.isAdmin
        canCreateGroup = !user.isBlocked
        canCreateProject = !user.isBlocked
        twoFactorEnabled = false
        external = false
        bot = false
        self.namespaceId = namespaceID
    }
}

/// A personal access token as GitLab shows it; `token` only in the answer that creates it.
struct PersonalAccessTokenEntity: Encodable, Sendable {
    var id: Int64
    var name: String
    var revoked: Bool
    var createdAt: Date
    @Nullable var description: String?
    var scopes: [String]
    var userId: Int64
    @Nullable var lastUsedAt: Date?
    var active: Bool
    @Nullable var expiresAt: String?
    var token: String?
}
