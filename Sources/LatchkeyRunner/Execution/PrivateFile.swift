import Foundation

/// Files and directories only their owner can read, created that way from the start (no window with a wider mode).
enum PrivateFile {
    /// Creates `path` (which must not exist) with mode 0600 and writes `bytes` to it.
    static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o600) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw PrivateFile.error(path) }
        defer { close(descriptor) }
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                Foundation.write(descriptor, buffer.baseAddress! + written, bytes.count - written)
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw PrivateFile.error(path)
            }
            written += result
        }
    }

    /// Creates the directory `path` (which must not exist) with `mode`.
    static func makeDirectory(_ path: String, mode: mode_t = 0o700) throws {
        guard mkdir(path, mode) == 0 else { throw PrivateFile.error(path) }
        // The umask may have removed bits we want (0711 for a builds directory).
        guard chmod(path, mode) == 0 else { throw PrivateFile.error(path) }
    }

    static func error(_ path: String) -> any Error {
        let code = POSIXErrorCode(rawValue: errno) ?? .EIO
        return NSError(domain: NSPOSIXErrorDomain, code: Int(code.rawValue), userInfo: [NSFilePathErrorKey: path, NSLocalizedDescriptionKey: "\(path): \(String(cString: strerror(code.rawValue)))"])
    }
}

/// The type of a file system entry, without following a final symbolic link.
enum FileKind: Equatable {
    case file, directory, symlink, other

    /// `nil` when nothing is at `path`.
    static func of(_ path: String) -> FileKind? {
        var status = stat()
        guard lstat(path, &status) == 0 else { return nil }
        switch status.st_mode & S_IFMT {
        case S_IFREG: return .file
        case S_IFDIR: return .directory
        case S_IFLNK: return .symlink
        default: return .other
        }
    }
}
