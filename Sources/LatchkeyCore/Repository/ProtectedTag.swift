import Foundation

/// A protected tag rule: an exact tag name or a pattern with `*` wildcards, and who may create matching tags. Once created, a
/// protected tag is never moved, and only a Maintainer deletes it, from the API or the web pages (GitLab's `ProtectedTag`).
public struct ProtectedTag: Sendable, Equatable {
    public var id: Int64
    public var projectID: Int64
    public var name: String
    public var createAccessLevel: ProtectedRefAccessLevel
    public var createdAt: Date

    public init(id: Int64, projectID: Int64, name: String, createAccessLevel: ProtectedRefAccessLevel, createdAt: Date) {
        self.id = id
        self.projectID = projectID
        self.name = name
        self.createAccessLevel = createAccessLevel
        self.createdAt = createdAt
    }

    /// Whether the rule covers `tag`, with GitLab's wildcard rules (the same as protected branches').
    public func matches(_ tag: String) -> Bool {
        name.contains("*") ? ProtectedBranch.glob(Array(name.utf8), Array(tag.utf8)) : name.utf8.elementsEqual(tag.utf8)
    }
}

/// The protected tag rules of one project.
public struct ProtectedTags: Sendable, Equatable {
    public var rules: [ProtectedTag]

    public init(_ rules: [ProtectedTag]) { self.rules = rules }

    /// The rules that cover `tag`.
    public func matching(_ tag: String) -> [ProtectedTag] { rules.filter { $0.matches(tag) } }

    /// Whether any rule covers `tag` (GitLab's `ProtectedTag.protected?`, which makes a tag's pipelines protected).
    public func protects(_ tag: String) -> Bool { rules.contains { $0.matches(tag) } }

    /// The least member role that may create a protected `tag`, and so run its pipelines; nil when no member role may.
    public func leastLevelToCreate(_ tag: String) -> AccessLevel? {
        matching(tag).compactMap(\.createAccessLevel.leastMemberLevel).min()
    }
}
