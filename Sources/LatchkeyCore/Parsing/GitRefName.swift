/// Git ref names from outside (a pipeline's `ref`, a tag to create, a branch to compare to), checked without running git.
public enum GitRefName {
    /// Longest name we pass on; git has no limit, file systems do.
    public static let maximumLength = 255

    /// Whether `name` is a full ref name by `git check-ref-format`'s rules: components separated by single slashes,
    /// none empty, none beginning with `.` or ending with `.lock`; no `..`, `@{`, control characters, space, `~ ^ : ? * [ \`
    /// or DEL; not ending with `.` or `/`; not `@`.
    public static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= maximumLength, name != "@", bytes.last != UInt8(ascii: ".") else { return false }
        var previous: UInt8 = UInt8(ascii: "/")
        for byte in bytes {
            switch byte {
            case 0..<0x20, 0x7F, UInt8(ascii: " "), UInt8(ascii: "~"), UInt8(ascii: "^"), UInt8(ascii: ":"), UInt8(ascii: "?"),
                UInt8(ascii: "*"), UInt8(ascii: "["), UInt8(ascii: "\\"):
                return false
            case UInt8(ascii: "/") where previous == UInt8(ascii: "/"):
                return false
            case UInt8(ascii: ".") where previous == UInt8(ascii: ".") || previous == UInt8(ascii: "/"):
                return false
            case UInt8(ascii: "{") where previous == UInt8(ascii: "@"):
                return false
            default:
                break
            }
            previous = byte
        }
        guard previous != UInt8(ascii: "/") else { return false }
        return !bytes.split(separator: UInt8(ascii: "/")).contains { $0.count >= 5 && Array($0.suffix(5)) == Array(".lock".utf8) }
    }

    /// Whether `name` is a tag name git accepts: a valid `refs/tags/<name>`, safe as an argument, not itself a full ref.
    public static func isValidTagName(_ name: String) -> Bool {
        isSafeArgument(name) && !name.hasPrefix("refs/") && isValid("refs/tags/\(name)")
    }

    /// Whether a ref or sha given to a git command line cannot be read as an option or a revision expression
    /// (`-x`, `a..b`, `a^`, `a~2`, `a@{1}`, `a:path`).
    ///
    /// Checked on bytes, as git reads them: `a..\u{301}b` holds `..` for git although no two characters are dots.
    public static func isSafeArgument(_ ref: String) -> Bool {
        let bytes = Array(ref.utf8)
        guard !bytes.isEmpty, bytes.count <= maximumLength, bytes.first != UInt8(ascii: "-") else { return false }
        let refused: Set<UInt8> = [0, UInt8(ascii: ":"), UInt8(ascii: " "), UInt8(ascii: "^"), UInt8(ascii: "~"), UInt8(ascii: "\\")]
        guard !bytes.contains(where: refused.contains) else { return false }
        return !zip(bytes, bytes.dropFirst()).contains { pair in
            pair == (UInt8(ascii: "."), UInt8(ascii: ".")) || pair == (UInt8(ascii: "@"), UInt8(ascii: "{"))
        }
    }
}
