import Foundation
import LatchkeyCore

/// GitLab's `UserCore` as `currentUser` shows it: who the credential acts as.
struct UserNode: Sendable {
    let user: User
    let baseURL: String

    var id: GraphQLID { .global("User", user.id) }
    var username: String { user.username }
    var name: String { user.name }
    var state: String { user.state }
    var webUrl: String { "\(baseURL)/\(user.username)" }
    var webPath: String { "/\(user.username)" }
    var avatarUrl: String? { nil }
    var bot: Bool { false }
    var active: Bool { !user.isBlocked }
}
