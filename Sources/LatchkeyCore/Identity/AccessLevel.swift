/// A member's role on a group or project, with GitLab's numeric `access_level` values.
public enum AccessLevel: Int, Codable, Sendable, Comparable, CaseIterable {
    case noAccess = 0
    case minimalAccess = 5
    case guest = 10
    case planner = 15
    case reporter = 20
    case developer = 30
    case maintainer = 40
    case owner = 50

    public static func < (lhs: AccessLevel, rhs: AccessLevel) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The level a member may be given through the API (GitLab refuses 0 and 5 for projects).
    public var isAssignable: Bool { self >= .guest }

    /// The word GitLab's UI uses for the level.
    public var title: String {
        switch self {
        case .noAccess: "No access"
        case .minimalAccess: "Minimal Access"
        case .guest: "Guest"
        case .planner: "Planner"
        case .reporter: "Reporter"
        case .developer: "Developer"
        case .maintainer: "Maintainer"
        case .owner: "Owner"
        }
    }
}
