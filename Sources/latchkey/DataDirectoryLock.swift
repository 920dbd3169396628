import ArgumentParser
import Foundation

/// An exclusive lock on the data directory for the life of one `serve`: two servers on one SQLite file would corrupt
/// each other's view of it (with PostgreSQL, several instances are the design and no lock is taken).
final class DataDirectoryLock: Sendable {
    private let descriptor: Int32

    private init(descriptor: Int32) { self.descriptor = descriptor }
    deinit { close(descriptor) }

    /// Takes `<data dir>/serve.lock`, or fails naming the process that holds it.
    static func acquire(_ directory: URL) throws -> DataDirectoryLock {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("serve.lock").path
        let descriptor = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw ValidationError("cannot open \(path): \(String(cString: strerror(errno)))") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(descriptor)
            throw ValidationError(
                "another latchkey serve\(holder.isEmpty ? "" : " (pid \(holder))") is using \(directory.path); with SQLite one server owns a data "
                    + "directory (use PostgreSQL, --database-url, to run several)")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        return DataDirectoryLock(descriptor: descriptor)
    }
}
