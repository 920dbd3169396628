/// A path glob as GitLab matches `rules:changes` and `rules:exists`: Ruby's `File.fnmatch?` with
/// `FNM_PATHNAME | FNM_DOTMATCH | FNM_EXTGLOB` (`*` stays within a directory, `**/` spans directories,
/// `?`, `[...]`, `{a,b}`, dotfiles matched like any other name).
///
/// Matching is dynamic programming over segments and characters, so no pattern costs more than
/// (pattern length × path length) per brace alternative; braces expand to at most `maxAlternatives`.
public struct CIGlob: Sendable, Equatable {
    public let pattern: String
    private let alternatives: [[String]]

    /// Most alternatives `{a,b}` braces may expand to; beyond that the pattern matches nothing.
    public static let maxAlternatives = 256
    /// Longest pattern read.
    public static let maxLength = 4096

    /// A glob for `pattern`.
    public init(_ pattern: String) {
        self.pattern = pattern
        guard pattern.utf8.count <= Self.maxLength, let expanded = Self.expandBraces(Array(pattern)) else {
            alternatives = []
            return
        }
        alternatives = expanded.map { String($0).split(separator: "/", omittingEmptySubsequences: false).map(String.init) }
    }

    /// Whether `path` (relative, `/`-separated) matches.
    public func matches(_ path: String) -> Bool {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).map { Array($0) }
        return alternatives.contains { Self.match(segments: $0.map { Array($0) }, path: segments) }
    }

    /// Whether the pattern has no wildcard, so `exists` can look the path up directly.
    public var isLiteral: Bool {
        !pattern.contains { "*?[{\\".contains($0) }
    }

    private static func match(segments pattern: [[Character]], path: [[Character]]) -> Bool {
        // reachable[j]: pattern segments so far can consume exactly the first j path segments.
        var reachable = [Bool](repeating: false, count: path.count + 1)
        reachable[0] = true
        for segment in pattern {
            var next = [Bool](repeating: false, count: path.count + 1)
            if segment == ["*", "*"] {
                var any = false
                for j in 0...path.count {
                    any = any || reachable[j]
                    next[j] = any
                }
            } else {
                for j in 0..<path.count where reachable[j] && matchSegment(segment, path[j]) {
                    next[j + 1] = true
                }
            }
            reachable = next
        }
        return reachable[path.count]
    }

    /// One segment: `*`, `?`, `[...]` and `\x` against a name without `/`.
    static func matchSegment(_ pattern: [Character], _ name: [Character]) -> Bool {
        // state[k]: the pattern up to the current item can consume the first k characters of name.
        var state = [Bool](repeating: false, count: name.count + 1)
        state[0] = true
        var index = 0
        while index < pattern.count {
            var next = [Bool](repeating: false, count: name.count + 1)
            let character = pattern[index]
            if character == "*" {
                var any = false
                for k in 0...name.count {
                    any = any || state[k]
                    next[k] = any
                }
                index += 1
            } else {
                var consumed = 1
                let test: (Character) -> Bool
                if character == "?" {
                    test = { _ in true }
                } else if character == "[", let (set, length) = characterClass(pattern, at: index) {
                    test = set
                    consumed = length
                } else if character == "\\", index + 1 < pattern.count {
                    let literal = pattern[index + 1]
                    test = { $0 == literal }
                    consumed = 2
                } else {
                    test = { $0 == character }
                }
                for k in 0..<name.count where state[k] && test(name[k]) { next[k + 1] = true }
                index += consumed
            }
            state = next
            if !state.contains(true) { return false }
        }
        return state[name.count]
    }

    /// `[abc]`, `[a-z]`, `[!x]` / `[^x]` starting at `start`; nil when unterminated (then `[` is literal).
    private static func characterClass(_ pattern: [Character], at start: Int) -> ((Character) -> Bool, Int)? {
        var index = start + 1
        var negated = false
        if index < pattern.count, pattern[index] == "!" || pattern[index] == "^" {
            negated = true
            index += 1
        }
        var ranges: [ClosedRange<Character>] = []
        var first = true
        while index < pattern.count, pattern[index] != "]" || first {
            first = false
            var low = pattern[index]
            if low == "\\", index + 1 < pattern.count {
                index += 1
                low = pattern[index]
            }
            if index + 2 < pattern.count, pattern[index + 1] == "-", pattern[index + 2] != "]" {
                let high = pattern[index + 2]
                if low <= high { ranges.append(low...high) }
                index += 3
            } else {
                ranges.append(low...low)
                index += 1
            }
        }
        guard index < pattern.count else { return nil }
        let set = ranges
        return ({ character in character != "/" && set.contains { $0.contains(character) } != negated }, index - start + 1)
    }

    /// `{a,b}` alternatives, innermost first; nil when there would be more than `maxAlternatives`.
    private static func expandBraces(_ pattern: [Character]) -> [[Character]]? {
        var results: [[Character]] = []
        var work: [[Character]] = [pattern]
        while let item = work.popLast() {
            guard let (open, close, parts) = firstBraceGroup(item) else {
                results.append(item)
                if results.count > maxAlternatives { return nil }
                continue
            }
            for part in parts {
                work.append(Array(item[..<open]) + part + Array(item[(close + 1)...]))
            }
            if work.count + results.count > maxAlternatives { return nil }
        }
        return results.reversed()
    }

    /// The first top-level `{...}` with a comma, split at its top-level commas.
    private static func firstBraceGroup(_ pattern: [Character]) -> (Int, Int, [[Character]])? {
        var index = 0
        while index < pattern.count {
            if pattern[index] == "\\" {
                index += 2
                continue
            }
            if pattern[index] == "{" {
                var depth = 0
                var parts: [[Character]] = []
                var current: [Character] = []
                var cursor = index
                while cursor < pattern.count {
                    let character = pattern[cursor]
                    if character == "{" {
                        depth += 1
                        if depth > 1 { current.append(character) }
                    } else if character == "}" {
                        depth -= 1
                        if depth == 0 {
                            parts.append(current)
                            return parts.count > 1 ? (index, cursor, parts) : nil
                        }
                        current.append(character)
                    } else if character == ",", depth == 1 {
                        parts.append(current)
                        current = []
                    } else {
                        current.append(character)
                    }
                    cursor += 1
                }
                return nil
            }
            index += 1
        }
        return nil
    }
}
