/// Who may see a project or group without being a member.
public enum Visibility: String, Codable, Sendable, CaseIterable, Comparable {
    case `private`
    case `internal`
    case `public`

    private var rank: Int {
        switch self {
        case .private: 0
        case .internal: 1
        case .public: 2
        }
    }

    public static func < (lhs: Visibility, rhs: Visibility) -> Bool { lhs.rank < rhs.rank }
}
