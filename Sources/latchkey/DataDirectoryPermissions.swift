import Foundation
import Logging

/// The data directory holds the database, the server secret and every trace: only the server's user may open any of it.
enum DataDirectoryPermissions {
    /// Entries of the data directory (itself and one level down) that group or others can reach.
    static func wideEntries(_ directory: URL) -> [(path: String, mode: mode_t)] {
        var paths = [directory.path]
        paths += ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).sorted().map { directory.path + "/" + $0 }
        return paths.compactMap { path in
            var status = stat()
            guard lstat(path, &status) == 0, status.st_mode & S_IFMT != S_IFLNK else { return nil }
            let mode = status.st_mode & 0o7777
            return mode & 0o077 != 0 ? (path, mode) : nil
        }
    }

    /// Logs one warning naming what is wider than 0700 (directories) or 0600 (files).
    static func warnIfWide(_ directory: URL, logger: Logger) {
        let wide = wideEntries(directory)
        guard !wide.isEmpty else { return }
        let list = wide.prefix(5).map { "\($0.path) (\(String($0.mode, radix: 8)))" }.joined(separator: ", ")
        logger.warning(
            "the data directory should be readable by this user only (directories 0700, files 0600), but group or others can reach: \(list)\(wide.count > 5 ? " and \(wide.count - 5) more" : ""); fix with chmod -R go-rwx \(directory.path)")
    }
}
