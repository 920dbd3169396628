import ArgumentParser
import Foundation
import LatchkeyCore
import LatchkeyServer
import LatchkeyStore
import Logging
import SQLKit

/// Consistent copies of an instance while it serves, and their restoration into an empty data directory.
///
/// The SQLite database is copied with `VACUUM INTO` (one transaction: a snapshot however busy the server is), then the
/// files. Files are written to a temporary name and renamed by the server, so each copied file is whole; a file newer
/// than the snapshot is harmless extra, and the snapshot is taken first so that every file a row names was already there.
enum Backup {
    /// What a data directory holds besides the database: every entry is copied when present.
    static let entries = ["server-secret", "registration-token", "registry-key.pem", "registry-cert.pem", "repositories", "artifacts", "packages", "traces"]
    static let databaseFile = "latchkey.sqlite3"
    static let manifestFile = "latchkey-backup.json"

    struct Manifest: Codable {
        var format = 1
        var createdAt: String
        var database: String
        var version: String
    }

    /// Copies the instance in `settings` into `destination` (which must not exist or be empty); returns what it wrote.
    static func create(settings: ServerSettings, destination: URL, logger: Logger) async throws -> [String] {
        try prepareEmpty(destination)
        var written: [String] = []
        if settings.databaseURL == nil {
            let source = settings.dataDirectory.appendingPathComponent(databaseFile).path
            guard FileManager.default.fileExists(atPath: source) else { throw ValidationError("no database at \(source): is --data-dir the instance's?") }
            let database = try await Database.sqlite(path: source, logger: logger)
            let target = destination.appendingPathComponent(databaseFile).path
            do {
                try await database.read { db in try await db.raw("VACUUM INTO \(bind: target)").run() }
            } catch {
                try? await database.close()
                throw ValidationError("cannot copy the database \(source): \(error)")
            }
            try await database.close()
            _ = chmod(target, 0o600)
            written.append(databaseFile)
        }
        for entry in entries {
            let source = settings.dataDirectory.appendingPathComponent(entry)
            guard FileManager.default.fileExists(atPath: source.path) else { continue }
            try copyLive(source.path, to: destination.appendingPathComponent(entry).path)
            written.append(entry)
        }
        let formatter = ISO8601DateFormatter()
        let manifest = Manifest(
            createdAt: formatter.string(from: Date()), database: settings.databaseURL == nil ? "sqlite" : "postgres (dump it with pg_dump)",
            version: LatchkeyVersionText.current)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(manifest).write(to: destination.appendingPathComponent(manifestFile))
        try restrict(destination)
        return written
    }

    /// Copies a backup into `dataDirectory`, which must not exist or be empty (never over a live instance).
    static func restore(from source: URL, into dataDirectory: URL) throws -> [String] {
        guard FileManager.default.fileExists(atPath: source.appendingPathComponent(manifestFile).path) else {
            throw ValidationError("\(source.path) is not a Latchkey backup (no \(manifestFile))")
        }
        try prepareEmpty(dataDirectory)
        var restored: [String] = []
        for entry in [databaseFile] + entries {
            let from = source.appendingPathComponent(entry)
            guard FileManager.default.fileExists(atPath: from.path) else { continue }
            try FileManager.default.copyItem(at: from, to: dataDirectory.appendingPathComponent(entry))
            restored.append(entry)
        }
        try restrict(dataDirectory)
        return restored
    }

    /// Copies a tree the server is writing to: an entry that vanishes between listing and copying (a file renamed into place,
    /// a project deleted) is skipped, and so are the server's unfinished `.creating-…` directories and `.…-tmp` files.
    static func copyLive(_ source: String, to target: String) throws {
        var status = stat()
        guard lstat(source, &status) == 0 else { return }
        switch status.st_mode & S_IFMT {
        case S_IFDIR:
            if mkdir(target, 0o700) != 0 && errno != EEXIST { throw ValidationError("cannot create \(target): \(String(cString: strerror(errno)))") }
            for name in (try? FileManager.default.contentsOfDirectory(atPath: source)) ?? [] where !isUnfinished(name) {
                try copyLive(source + "/" + name, to: target + "/" + name)
            }
        case S_IFREG:
            do {
                try FileManager.default.copyItem(atPath: source, toPath: target)
            } catch where !FileManager.default.fileExists(atPath: source) {
                // Gone while we copied: it was being replaced or deleted, and the snapshot does not need it.
            }
        case S_IFLNK:
            if let destination = try? FileManager.default.destinationOfSymbolicLink(atPath: source) {
                try? FileManager.default.createSymbolicLink(atPath: target, withDestinationPath: destination)
            }
        default:
            break
        }
    }

    private static func isUnfinished(_ name: String) -> Bool {
        name.hasPrefix(".creating-") || (name.hasPrefix(".") && (name.hasSuffix(".tmp") || name.contains("-tmp")))
    }

    private static func prepareEmpty(_ directory: URL) throws {
        if FileManager.default.fileExists(atPath: directory.path) {
            let contents = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            guard contents.isEmpty else { throw ValidationError("\(directory.path) is not empty") }
        } else {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
        _ = chmod(directory.path, 0o700)
    }

    /// Directories 0700, files 0600, as the server keeps its data directory (git hooks keep their execute bit for the owner).
    private static func restrict(_ directory: URL) throws {
        guard let walker = FileManager.default.enumerator(atPath: directory.path) else { return }
        _ = chmod(directory.path, 0o700)
        while let relative = walker.nextObject() as? String {
            let path = directory.appendingPathComponent(relative).path
            var status = stat()
            guard lstat(path, &status) == 0, status.st_mode & S_IFMT != S_IFLNK else { continue }
            let mode: mode_t = status.st_mode & S_IFMT == S_IFDIR ? 0o700 : (status.st_mode & 0o100 != 0 ? 0o700 : 0o600)
            _ = chmod(path, mode)
        }
    }
}

enum LatchkeyVersionText {
    static var current: String { LatchkeyVersion.number }
}
