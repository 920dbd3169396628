import Foundation
import LatchkeyCore
import LatchkeyStore
import LatchkeyTestSupport
import Testing

/// Runs `body` with a `Store` over a fresh, migrated database of the given backend.
func withStore<T: Sendable>(_ backend: TestBackend, _ body: @Sendable (Store) async throws -> T) async throws -> T {
    try await withTestDatabase(backend) { database, _ in try await body(Store(database: database)) }
}

extension Store {
    /// A user named `username` with made-up name and email.
    func makeUser(_ username: String, admin: Bool = false) async throws -> User {
        try await users.create(
            NewUser(username: username, name: username.capitalized, email: "\(username)@example.com", passwordHash: nil, isAdmin: admin))
    }

    /// A group at `path` under `parent`, created by `creator` (who becomes its Owner).
    func makeGroup(_ path: String, parent: Group? = nil, visibility: Visibility = .private, creator: User) async throws -> Group {
        try await namespaces.createGroup(
            NewGroup(name: path.capitalized, path: path, parentID: parent?.id, visibility: visibility, description: ""), creatorID: creator.id)
    }

    /// A project at `path` in the namespace with id `namespaceID`.
    func makeProject(_ path: String, namespaceID: Int64, visibility: Visibility = .private, creator: User) async throws -> Project {
        try await projects.create(
            NewProject(name: path, path: path, namespaceID: namespaceID, visibility: visibility, description: "", defaultBranch: "main"),
            creatorID: creator.id)
    }

    /// A project in the user's personal namespace.
    func makePersonalProject(_ path: String, of user: User, visibility: Visibility = .private) async throws -> Project {
        let namespace = try #require(try await namespaces.personalNamespace(userID: user.id))
        return try await makeProject(path, namespaceID: namespace.id, visibility: visibility, creator: user)
    }
}
