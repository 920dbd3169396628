import Foundation

/// The unprivileged account job processes run as when the runner runs as root.
struct JobUser: Sendable, Equatable {
    var name: String
    var uid: uid_t
    var gid: gid_t
    var home: String

    /// Looks `name` up in the user database.
    static func lookup(_ name: String) throws -> JobUser {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16 << 10)
        let status = getpwnam_r(name, &entry, &buffer, buffer.count, &result)
        guard status == 0, result != nil else {
            throw RunnerError.invalidConfiguration("job user \(name) does not exist")
        }
        return JobUser(name: name, uid: entry.pw_uid, gid: entry.pw_gid, home: String(cString: entry.pw_dir))
    }

    /// The arguments that run a command as this user (util-linux `setpriv`): real and effective ids, supplementary groups.
    func wrapping(_ command: [String], setpriv: String) -> [String] {
        [setpriv, "--reuid=\(uid)", "--regid=\(gid)", "--init-groups", "--"] + command
    }
}
