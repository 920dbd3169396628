import Foundation

/// Why a file could not be written.
struct FileWriteError: Error, CustomStringConvertible {
    let path: String
    var description: String { "could not create \(path)" }
}

extension FileManager {
    /// Creates a file readable only by this user (mode 0600), or throws.
    func createPrivateFile(at url: URL, contents: Data? = nil) throws {
        guard createFile(atPath: url.path, contents: contents, attributes: [.posixPermissions: 0o600]) else { throw FileWriteError(path: url.path) }
    }
}
