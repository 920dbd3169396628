import Foundation
import LatchkeyCore
import ZIPFoundation

/// Zip archives of artifacts: written from collected paths, extracted into a checkout without letting any entry escape it.
enum ArtifactArchive {
    /// Why an archive was refused.
    enum Failure: Error, Equatable, CustomStringConvertible {
        /// An entry with an absolute path, a `..` component, or a path through a symbolic link (zip-slip).
        case unsafeEntry(String)
        /// A report file that could not be read as a regular file within the size limit.
        case unreadableReport(String)

        var description: String {
            switch self {
            case .unsafeEntry(let path): "refusing archive entry \(path): it would be written outside the project directory"
            case .unreadableReport(let path): "cannot read report file \(path): not a regular file, or larger than 64 MiB"
            }
        }
    }

    /// Writes `paths` (relative to `root`) into a new zip at `archive`.
    static func create(at archive: URL, root: URL, paths: [String]) throws {
        let zip = try Archive(url: archive, accessMode: .create)
        for path in paths {
            let kind = FileKind.of(root.path + "/" + path)
            try zip.addEntry(with: path, relativeTo: root, compressionMethod: kind == .file ? .deflate : .none)
        }
    }

    /// Extracts every entry of `archive` under `root`; checks all entries first, so a hostile archive writes nothing.
    @discardableResult
    static func extract(_ archive: URL, into root: URL) throws -> Int {
        let zip = try Archive(url: archive, accessMode: .read)
        var planned: [(Entry, [String])] = []
        for entry in zip {
            guard let parts = safeComponents(entry.path) else { throw Failure.unsafeEntry(entry.path) }
            planned.append((entry, parts))
        }
        for (entry, parts) in planned {
            // Re-checked per entry: an earlier entry may have created a link on the way.
            var current = root.path
            for part in parts.dropLast() {
                current += "/" + part
                switch FileKind.of(current) {
                case nil, .directory: continue
                default: throw Failure.unsafeEntry(entry.path)
                }
            }
            let destination = root.appendingPathComponent(parts.joined(separator: "/"))
            let existing = FileKind.of(destination.path)
            if entry.type == .directory {
                if existing == .directory { continue }
            }
            if let existing, existing != .directory || entry.type != .directory {
                // Later artifacts replace earlier files, as in GitLab; a link is replaced, never written through.
                try FileManager.default.removeItem(at: destination)
            }
            _ = try zip.extract(entry, to: destination, skipCRC32: false, allowUncontainedSymlinks: false)
            if entry.type != .symlink {
                // No set-id bits from an archive.
                var status = stat()
                if lstat(destination.path, &status) == 0 { _ = chmod(destination.path, status.st_mode & 0o777) }
            }
        }
        return planned.count
    }

    /// The entry path's components, or nil when it is absolute or climbs with `..`.
    static func safeComponents(_ path: String) -> [String]? {
        ArtifactEntryName.extractionComponents(path)
    }
}

extension ArtifactArchive {
    /// A report file larger than this is left out of a gzip report (it is read into memory; GitLab's own limits are far smaller).
    static let gzipReportFileLimit = 64 << 20

    /// Writes the regular files among `paths` as one gzip member each, named by its path, as gitlab-runner's `artifact_format=gzip`.
    ///
    /// Links and directories are skipped and each file is opened with `O_NOFOLLOW`, so nothing outside the checkout is read.
    static func createGzip(at archive: URL, root: URL, paths: [String]) throws {
        var output: [UInt8] = []
        for path in paths where FileKind.of(root.path + "/" + path) == .file {
            guard let data = readRegularFile(root.path + "/" + path, limit: gzipReportFileLimit) else { throw Failure.unreadableReport(path) }
            output += Gzip.member(name: path, data: data)
        }
        try PrivateFile.write(output, to: archive.path)
    }

    /// The contents of a regular file that is not a link, at most `limit` bytes; nil otherwise.
    private static func readRegularFile(_ path: String, limit: Int) -> [UInt8]? {
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & S_IFMT == S_IFREG, Int(status.st_size) <= limit else { return nil }
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while result.count <= limit {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 { return nil }
            if count == 0 { return result }
            result += buffer[0..<count]
        }
        return nil
    }
}
