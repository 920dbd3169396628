import Foundation

/// The host uids (and gids of the same number) a root runner hands to its job slots, e.g. `20000-20999`.
public struct JobUIDRange: Sendable, Equatable, Codable, CustomStringConvertible {
    public let lower: UInt32
    public let upper: UInt32

    /// The default range: far above login accounts (1000–59999 on Debian is for people; these are never in /etc/passwd).
    public static let `default` = JobUIDRange(uncheckedLower: 20000, upper: 20999)

    init(uncheckedLower lower: UInt32, upper: UInt32) {
        self.lower = lower
        self.upper = upper
    }

    /// Parses `LOW-HIGH`: both unprivileged (≥ 1000), below the overflow id 65534, LOW ≤ HIGH.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let lower = UInt32(parts[0].trimmingCharacters(in: .whitespaces)),
            let upper = UInt32(parts[1].trimmingCharacters(in: .whitespaces))
        else {
            throw RunnerError.invalidConfiguration("job uid range \"\(text)\" is not LOW-HIGH, e.g. 20000-20999")
        }
        guard lower >= 1000, upper < 65534, lower <= upper else {
            throw RunnerError.invalidConfiguration("job uid range \(text) must lie within 1000-65533 with LOW ≤ HIGH")
        }
        self.init(uncheckedLower: lower, upper: upper)
    }

    public var count: Int { Int(upper - lower) + 1 }
    public var description: String { "\(lower)-\(upper)" }

    public init(from decoder: any Decoder) throws {
        try self.init(parsing: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
