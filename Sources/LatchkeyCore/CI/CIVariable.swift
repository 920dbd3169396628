/// A variable from `variables:` in `.gitlab-ci.yml`, its value already a string as GitLab stores it.
public struct CIVariable: Codable, Sendable, Equatable {
    public var key: String
    public var value: String

    /// A variable named `key` holding `value`.
    public init(key: String, value: String) {
        self.key = key
        self.value = value
    }
}
