import Foundation

/// Package files under the data directory (`packages/`), written to a temporary name and renamed into place.
public struct PackageStore: Sendable {
    public let root: URL

    public init(root: URL) { self.root = root }

    func prepare() throws {
        try FileManager.default.createDirectory(at: root.appendingPathComponent("tmp"), withIntermediateDirectories: true)
    }

    /// A fresh temporary file to stream an upload into.
    func temporaryFile() -> URL { root.appendingPathComponent("tmp/upload-\(UUID().uuidString)") }

    /// Moves a finished upload into place; the stored name is ours, never the client's, so no file name can escape the store.
    func commit(_ temporary: URL, projectID: Int64) throws -> String {
        let relative = "\(projectID)/\(UUID().uuidString)"
        let destination = root.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.moveItem(at: temporary, to: destination)
        return relative
    }

    func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    func remove(_ relative: String) { try? FileManager.default.removeItem(at: url(relative)) }
}
