/// A variable from `variables:` in `.gitlab-ci.yml`, its value already a string as GitLab stores it.
public struct CIVariable: Codable, Sendable, Equatable {
    public var key: String
    public var value: String
    /// `expand: false`: the runner must not expand `$` references in the value (`raw` in the job payload).
    public var raw: Bool

    /// A variable named `key` holding `value`.
    public init(key: String, value: String, raw: Bool = false) {
        self.key = key
        self.value = value
        self.raw = raw
    }

    /// Decodes stored JSON written before `raw` existed.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        key = try container.decode(String.self, forKey: .key)
        value = try container.decode(String.self, forKey: .value)
        raw = try container.decodeIfPresent(Bool.self, forKey: .raw) ?? false
    }
}
