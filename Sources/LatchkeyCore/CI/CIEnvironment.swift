import Crypto
import Foundation

/// A job's `environment:`: where it deploys, and what it does there.
public struct CIEnvironment: Codable, Sendable, Equatable {
    /// What the job does to its environment (GitLab's `environment:action`); only `start` makes a deployment.
    public enum Action: String, Codable, Sendable, CaseIterable {
        case start, prepare, stop, verify, access
    }

    /// The name, variables expanded when the pipeline is created.
    public var name: String
    public var url: String?
    public var action: Action
    /// The job that stops the environment (`on_stop`), in the same pipeline.
    public var onStop: String?
    public var autoStopIn: String?
    public var deploymentTier: EnvironmentTier?

    public init(name: String, url: String? = nil, action: Action = .start, onStop: String? = nil, autoStopIn: String? = nil, deploymentTier: EnvironmentTier? = nil) {
        self.name = name
        self.url = url
        self.action = action
        self.onStop = onStop
        self.autoStopIn = autoStopIn
        self.deploymentTier = deploymentTier
    }
}

/// GitLab's deployment tiers.
public enum EnvironmentTier: String, Codable, Sendable, CaseIterable {
    case production, staging, testing, development, other

    /// GitLab's guess from the name when no tier is given (`Environment#guess_tier`), in its order.
    public static func guess(from name: String) -> EnvironmentTier {
        let lower = name.lowercased()
        func any(_ words: [String]) -> Bool { words.contains { lower.contains($0) } }
        if any(["dev", "review", "trunk"]) { return .development }
        if any(["test", "tst", "int", "acpt", "accept", "qa", "qc", "control", "quality"]) { return .testing }
        if any(["stg", "stag", "model", "modl", "pre", "demo", "non"]) { return .staging }
        if any(["prd", "prod", "live"]) { return .production }
        return .other
    }
}

/// Environment names and slugs, as GitLab forms and checks them.
public enum EnvironmentName {
    public static let maximumLength = 255

    /// GitLab's `environment_name_regex`: letters, digits, `-`, `_`, `/`, `$`, `{`, `}`, `.` and spaces, not starting or ending with `/`.
    public static func isValid(_ name: String) -> Bool {
        guard !name.isEmpty, name.count <= maximumLength, !name.hasPrefix("/"), !name.hasSuffix("/") else { return false }
        return name.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || "-_/${}. ".unicodeScalars.contains(scalar))
        }
    }

    /// An absolute http(s) URL with a host, as GitLab's `public_url` validator wants.
    public static func isWebURL(_ text: String) -> Bool {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(), ["http", "https"].contains(scheme) else { return false }
        return !(components.host ?? "").isEmpty
    }

    public static let invalidMessage =
        "can contain only letters, digits, '-', '_', '/', '$', '{', '}', '.', and spaces, but it cannot start or end with '/'"

    /// GitLab's `Gitlab::Slug::Environment`: lower-case letters, digits and single dashes, starting with a letter, at most 24
    /// characters; a name that had to change gets a 6-character suffix from its SHA-256 so slugs of different names differ.
    public static func slug(_ name: String) -> String {
        var slug = String(name.lowercased().unicodeScalars.map { $0.isASCII && (("a"..."z").contains($0) || ("0"..."9").contains($0)) ? Character($0) : "-" })
        if !(slug.first.map { ("a"..."z").contains($0) } ?? false) { slug = "env-" + slug }
        while slug.contains("--") { slug = slug.replacingOccurrences(of: "--", with: "-") }
        if slug.count > 24 || slug != name {
            slug = String(slug.prefix(17))
            if !slug.hasSuffix("-") { slug += "-" }
            return slug + suffix(name)
        }
        return slug.hasSuffix("-") ? String(slug.dropLast()) : slug
    }

    /// The last 6 base-36 digits of the name's SHA-256 read as one number (Ruby's `hexdigest.to_i(16).to_s(36).last(6)`).
    static func suffix(_ name: String) -> String {
        var number = Array(SHA256.hash(data: Data(name.utf8)))
        let digits = Array("0123456789abcdefghijklmnopqrstuvwxyz")
        var out: [Character] = []
        while out.count < 6, number.contains(where: { $0 != 0 }) {
            var remainder = 0
            for index in number.indices {
                let value = remainder * 256 + Int(number[index])
                number[index] = UInt8(value / 36)
                remainder = value % 36
            }
            out.append(digits[remainder])
        }
        return String(out.reversed())
    }
}
