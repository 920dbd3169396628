/// A path inside a repository's tree as an API parameter names it (`path=` of the tree and archive APIs).
public enum RepositoryPath {
    /// Longest path accepted (git itself allows 4096 bytes on most systems).
    public static let maximumLength = 4096

    /// Why a path was refused.
    public enum Problem: Error, Equatable, Sendable {
        case tooLong
        /// NUL or another control character: never part of a git path, and would end a C string early.
        case controlCharacter
        /// A `.` or `..` segment: git trees hold no such entry, and it reads like an escape.
        case dotSegment
    }

    /// The path without leading, trailing or doubled `/`; empty for the root. Checked on bytes, as git reads them.
    public static func parse(_ raw: String) throws(Problem) -> String {
        let bytes = Array(raw.utf8)
        guard bytes.count <= maximumLength else { throw .tooLong }
        guard !bytes.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { throw .controlCharacter }
        let segments = bytes.split(separator: UInt8(ascii: "/"))
        for segment in segments where segment.elementsEqual(".".utf8) || segment.elementsEqual("..".utf8) { throw .dotSegment }
        return segments.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "/")
    }
}
