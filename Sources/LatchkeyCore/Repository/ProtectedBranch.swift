import Foundation

/// Who may push or merge to a protected branch: GitLab's `ProtectedRefAccess` levels (0, 30, 40, 60).
public enum ProtectedRefAccessLevel: Int, Sendable, CaseIterable, Codable {
    case noOne = 0
    case developer = 30
    case maintainer = 40
    case admin = 60

    /// GitLab's `access_level_description`.
    public var title: String {
        switch self {
        case .noOne: "No one"
        case .developer: "Developers + Maintainers"
        case .maintainer: "Maintainers"
        case .admin: "Administrators"
        }
    }

    /// The least member role the level admits; nil when no member role does (no one, administrators only).
    public var leastMemberLevel: AccessLevel? {
        switch self {
        case .developer: .developer
        case .maintainer: .maintainer
        case .noOne, .admin: nil
        }
    }
}

/// A protected branch rule: an exact branch name or a pattern with `*` wildcards, and who may push and merge there.
public struct ProtectedBranch: Sendable, Equatable {
    public var id: Int64
    public var projectID: Int64
    public var name: String
    public var pushAccessLevel: ProtectedRefAccessLevel
    public var mergeAccessLevel: ProtectedRefAccessLevel
    public var allowForcePush: Bool
    public var createdAt: Date

    public init(
        id: Int64, projectID: Int64, name: String, pushAccessLevel: ProtectedRefAccessLevel, mergeAccessLevel: ProtectedRefAccessLevel,
        allowForcePush: Bool, createdAt: Date
    ) {
        self.id = id
        self.projectID = projectID
        self.name = name
        self.pushAccessLevel = pushAccessLevel
        self.mergeAccessLevel = mergeAccessLevel
        self.allowForcePush = allowForcePush
        self.createdAt = createdAt
    }

    /// Whether the rule names a pattern rather than one branch.
    public var isWildcard: Bool { name.contains("*") }

    /// Whether the rule covers `branch`: the same name, or the pattern with each `*` standing for any run of characters, `/` included
    /// (GitLab's `ProtectedRef::WildcardMatcher`).
    public func matches(_ branch: String) -> Bool {
        isWildcard ? Self.glob(Array(name.utf8), Array(branch.utf8)) : name.utf8.elementsEqual(branch.utf8)
    }

    /// Linear-time wildcard match with `*` as the only special byte (no backtracking blow-up whatever the pattern).
    static func glob(_ pattern: [UInt8], _ text: [UInt8]) -> Bool {
        let star = UInt8(ascii: "*")
        var p = 0
        var t = 0
        var starAt: Int?
        var resumeAt = 0
        while t < text.count {
            if p < pattern.count, pattern[p] != star, pattern[p] == text[t] {
                p += 1
                t += 1
            } else if p < pattern.count, pattern[p] == star {
                starAt = p
                resumeAt = t
                p += 1
            } else if let star = starAt {
                p = star + 1
                resumeAt += 1
                t = resumeAt
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == star { p += 1 }
        return p == pattern.count
    }

    /// Longest name a rule may have (GitLab's column is 255 characters).
    public static let maximumNameLength = 255

    /// Whether `name` can name a branch or a pattern: git's ref-name rules, with `*` allowed as the wildcard.
    public static func isValidName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= maximumNameLength else { return false }
        guard !name.hasPrefix("-"), !name.hasPrefix("/"), !name.hasSuffix("/"), !name.hasSuffix("."), !name.hasSuffix(".lock") else { return false }
        guard !name.contains(".."), !name.contains("//"), !name.contains("@{"), !name.contains("/."), !name.hasPrefix("."), name != "@" else { return false }
        for scalar in name.unicodeScalars {
            if scalar.value < 0x20 || scalar.value == 0x7F { return false }
            if " ~^:?[\\".unicodeScalars.contains(scalar) { return false }
        }
        return true
    }
}

/// The protected branch rules of one project, as a push or a pipeline sees them.
public struct ProtectedBranches: Sendable, Equatable {
    public var rules: [ProtectedBranch]

    public init(_ rules: [ProtectedBranch]) { self.rules = rules }

    /// The rules that cover `branch`.
    public func matching(_ branch: String) -> [ProtectedBranch] { rules.filter { $0.matches(branch) } }

    /// Whether any rule covers `branch` (GitLab's `ProtectedBranch.protected?`, which makes a ref protected for CI/CD variables).
    public func protects(_ branch: String) -> Bool { rules.contains { $0.matches(branch) } }

    /// Whether a force push to `branch` is allowed: every matching rule must allow it (the most restrictive rule wins).
    public func allowsForcePush(_ branch: String) -> Bool { matching(branch).allSatisfy(\.allowForcePush) }

    /// The least member role that may push or merge to a protected `branch` (GitLab lets either run pipelines there); nil when no member
    /// role may. Only meaningful when `protects(branch)`.
    public func leastLevelToPushOrMerge(_ branch: String) -> AccessLevel? {
        matching(branch).flatMap { [$0.pushAccessLevel.leastMemberLevel, $0.mergeAccessLevel.leastMemberLevel] }.compactMap { $0 }.min()
    }
}
