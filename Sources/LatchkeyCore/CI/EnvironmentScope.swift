import Foundation

/// A CI/CD variable's `environment_scope`: which jobs' environments it reaches, as GitLab matches it.
///
/// `*` reaches every job, with or without an environment; any other scope reaches only jobs deploying to an environment
/// whose name it matches, `*` standing for any characters (`review/*`). A job with no environment gets only `*` variables,
/// so a variable scoped to `production` never reaches a job that does not deploy there.
public enum EnvironmentScope {
    public static let all = "*"

    /// Whether `scope` is one GitLab accepts: letters, digits, `-_/${}.*` and spaces, 1 to 255 characters.
    public static func isValid(_ scope: String) -> Bool {
        !scope.isEmpty && scope.utf8.count <= 255
            && scope.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_/${}.* ".unicodeScalars.contains($0)) }
    }

    public static func matches(_ scope: String, environment: String?) -> Bool {
        if scope == all { return true }
        guard let environment else { return false }
        return wildcardMatch(Array(scope.utf8), Array(environment.utf8))
    }

    /// How specific a scope is, for ordering same-key variables so the most specific comes last and wins (GitLab sorts
    /// `*` first, then wildcards, then exact names).
    public static func specificity(_ scope: String) -> Int {
        scope == all ? 0 : scope.contains("*") ? 1 : 2
    }

    /// The variables of one level (the instance, one group, the project) that reach a job deploying to `environment` (nil:
    /// none), only protected ones on a protected ref, in an order where of two with one key the more specific scope comes
    /// later and wins.
    public static func reaching(_ variables: [ProjectVariable], environment: String?, refProtected: Bool) -> [ProjectVariable] {
        variables.filter { (!$0.protected || refProtected) && matches($0.environmentScope, environment: environment) }
            .enumerated().sorted { (specificity($0.element.environmentScope), $0.offset) < (specificity($1.element.environmentScope), $1.offset) }
            .map(\.element)
    }

    /// Glob match with `*` only, iterative (no backtracking blow-up): O(pattern × text) at worst.
    static func wildcardMatch(_ pattern: [UInt8], _ text: [UInt8]) -> Bool {
        var p = 0, t = 0
        var star = -1, resume = 0
        while t < text.count {
            if p < pattern.count, pattern[p] != UInt8(ascii: "*"), pattern[p] == text[t] {
                p += 1
                t += 1
            } else if p < pattern.count, pattern[p] == UInt8(ascii: "*") {
                star = p
                resume = t
                p += 1
            } else if star >= 0 {
                p = star + 1
                resume += 1
                t = resume
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }
}
