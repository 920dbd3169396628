/// The name of an entry in an artifacts archive, from outside twice over: the archive is the job's, and the
/// `raw/*artifact_path` of a download is the client's.
///
/// Components are split on the byte `/`, as the file system splits them, never on characters: a combining mark or a
/// prepended mark glued to a `/` or a `.` must not hide a separator or a `..` (found by fuzzing, issue 10).
public enum ArtifactEntryName {
    /// Why an entry name is refused.
    public enum Failure: Error, Equatable, Sendable {
        /// Absolute, empty, with a NUL byte, or with a `.` or `..` component.
        case invalidPath
    }

    /// A path asked for in a download, as GitLab's `Artifacts::Path` accepts it: relative, no NUL byte, no `.` or `..`
    /// component; returned unchanged, to look up as an exact entry name.
    public static func lookupPath(_ path: String) throws(Failure) -> String {
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty, !bytes.contains(0), bytes.first != slash else { throw .invalidPath }
        guard !bytes.split(separator: slash, omittingEmptySubsequences: false).contains(where: isDots) else { throw .invalidPath }
        return path
    }

    /// The components of an entry to extract under a directory, or nil when it is absolute, has a NUL byte, climbs
    /// with `..` or names nothing; empty and `.` components are dropped, so the result never leaves the directory.
    public static func extractionComponents(_ path: String) -> [String]? {
        let bytes = Array(path.utf8)
        guard bytes.first != slash, bytes.first != UInt8(ascii: "\\"), !bytes.contains(0) else { return nil }
        let parts = bytes.split(separator: slash).filter { !($0.count == 1 && $0.first == dot) }
        guard !parts.isEmpty, !parts.contains(where: isDots) else { return nil }
        return parts.map { String(decoding: $0, as: UTF8.self) }
    }

    private static let slash = UInt8(ascii: "/")
    private static let dot = UInt8(ascii: ".")

    /// `.` or `..`, as bytes.
    private static func isDots(_ component: ArraySlice<UInt8>) -> Bool {
        (component.count == 1 || component.count == 2) && component.allSatisfy { $0 == dot }
    }
}
