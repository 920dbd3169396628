import Foundation

/// A file a project keeps for its jobs outside the repository (signing keys, keystores), sealed at rest.
public struct SecureFile: Sendable, Equatable {
    public var id: Int64
    public var projectID: Int64
    public var name: String
    /// SHA-256 of the content, hex.
    public var checksum: String
    public var size: Int
    public var createdAt: Date

    public init(id: Int64, projectID: Int64, name: String, checksum: String, size: Int, createdAt: Date) {
        self.id = id
        self.projectID = projectID
        self.name = name
        self.checksum = checksum
        self.size = size
        self.createdAt = createdAt
    }

    /// GitLab's limits: files under 5 MB, 100 per project.
    public static let maximumSize = 5 * 1024 * 1024
    public static let maximumPerProject = 100

    /// A name that is safe as a file name in a job's workspace and in a `Content-Disposition` header: 1–255 characters,
    /// no control characters, no `/` or `\`, not `.` or `..`.
    public static func isValidName(_ name: String) -> Bool {
        guard !name.isEmpty, name.count <= 255, name != ".", name != ".." else { return false }
        return !name.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F || $0 == "/" || $0 == "\\" }
    }

    /// The extension GitLab's entity shows (`file_extension`): what follows the last `.`, if anything.
    public var fileExtension: String? {
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex, name.index(after: dot) != name.endIndex else { return nil }
        return String(name[name.index(after: dot)...])
    }
}
