import Foundation
import LatchkeyCore

/// Artifact archives as files under the data directory, written to a temporary name and renamed into place.
public struct ArtifactStore: Sendable {
    public let root: URL

    public init(root: URL) { self.root = root }

    func prepare() throws {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("tmp"), withIntermediateDirectories: true)
    }

    /// A fresh temporary file to stream an upload into.
    func temporaryFile() -> URL { root.appendingPathComponent("tmp/upload-\(UUID().uuidString)") }

    /// Moves a finished upload into place and returns its path relative to the store.
    func commit(_ temporary: URL, jobID: Int64, name: String) throws -> String {
        let relative = "\(jobID / 1000)/\(jobID)-\(UUID().uuidString)-\(name)"
        let destination = root.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.moveItem(at: temporary, to: destination)
        return relative
    }

    func url(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    func remove(_ relative: String) { try? FileManager.default.removeItem(at: url(relative)) }
}
