import Foundation

/// How every process of a job is started inside bubblewrap: what it sees, who it runs as, what it can reach.
///
/// The job sees read-only system directories (`/usr`, the `/bin` and `/lib*` links, a short list of
/// `/etc` files a shell, git, curl and python need), a fresh `/proc` of its own PID namespace, a minimal
/// `/dev`, a private `/tmp`, and read-write only its own project and temporary directories, mounted at
/// their host paths so `CI_PROJECT_DIR` means the same inside and out. Nothing else of the host exists
/// for it: not the data directory, not the runner's configuration or token, not other jobs' workspaces,
/// not the server's or other jobs' processes. The network stays, so the job reaches the API and git.
struct JobSandbox: Sendable {
    /// The `bwrap` executable.
    let bubblewrap: String
    /// `setpriv` (util-linux), which drops to the slot's uid on the host side before `bwrap` starts; nil when the runner is not root.
    let setpriv: String?
    /// Host paths that must stay invisible even where they lie under a directory the sandbox shows.
    let hiddenPaths: [String]

    /// System directories shown read-only when they exist (a symbolic link, as `/bin` → `usr/bin` on merged-/usr systems, is recreated as one).
    static let systemDirectories = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"]

    /// The files and directories of `/etc` a shell, git, curl, python and name resolution read; the rest of `/etc` (which may hold host secrets) is not shown.
    static let etcEntries = [
        "alternatives", "bash.bashrc", "ca-certificates", "ca-certificates.conf", "containers", "crypto-policies", "debian_version", "gai.conf", "gitconfig",
        "host.conf", "hostname", "hosts", "inputrc", "issue", "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "locale.alias", "locale.gen",
        "lsb-release", "magic", "mime.types", "nsswitch.conf", "os-release", "pki", "profile", "profile.d", "protocols", "python3", "python3.11",
        "python3.12", "python3.13", "resolv.conf", "services", "shells", "ssl", "terminfo", "timezone", "wgetrc", "xdg",
    ]

    /// Under the `/etc` entries shown, but private to the host (TLS keys readable by the `ssl-cert` group).
    static let alwaysHidden = ["/etc/ssl/private"]

    /// The PATH a sandboxed job starts with: system tools only, never a tool under a private home such as `/root`.
    static let path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// Finds `bwrap` (and `setpriv` when the runner is root), or explains what to install.
    static func locate(hiddenPaths: [String], searchPath: String = JobSandbox.path) throws -> JobSandbox {
        guard let bubblewrap = JobEnvironment.resolve("bwrap", path: searchPath) else {
            throw RunnerError.invalidConfiguration(
                "the sandbox executor needs bubblewrap, and `bwrap` is not installed (Debian: apt-get install bubblewrap). "
                    + "Running jobs without it lets them read everything the runner can: the GitLab documentation warns against "
                    + "\"using the shell executor when jobs run on the same machine\". "
                    + "Only on a host that runs nothing else, choose --executor shell-unsafe.")
        }
        var setpriv: String?
        if geteuid() == 0 {
            guard let found = JobEnvironment.resolve("setpriv", path: searchPath) else {
                throw RunnerError.invalidConfiguration("a root runner needs setpriv (Debian: util-linux) to run jobs as unprivileged uids")
            }
            setpriv = found
        }
        return JobSandbox(bubblewrap: bubblewrap, setpriv: setpriv, hiddenPaths: hiddenPaths)
    }

    /// The whole command line that runs `command` sandboxed for `workspace`, as `user` when the runner is root.
    ///
    /// `infoDescriptor` is the descriptor bwrap writes its child's pid and namespaces to (for graceful stops).
    func arguments(_ command: [String], workspace: Workspace, user: JobUser?, infoDescriptor: Int32) -> [String] {
        var arguments: [String] = []
        if let setpriv, let user {
            // Drop to the slot's uid on the host before bwrap: `bwrap --uid N` run as root only renames root inside the namespace.
            arguments += [setpriv, "--reuid=\(user.uid)", "--regid=\(user.gid)", "--clear-groups", "--"]
        }
        arguments += [
            bubblewrap, "--die-with-parent", "--new-session", "--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--disable-userns", "--hostname", "latchkey-job", "--info-fd", String(infoDescriptor),
        ]
        for directory in Self.systemDirectories {
            switch FileKind.of(directory) {
            case .directory: arguments += ["--ro-bind", directory, directory]
            case .symlink:
                if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: directory) { arguments += ["--symlink", target, directory] }
            default: break
            }
        }
        for entry in Self.etcEntries where entry != "passwd" && entry != "group" {
            arguments += ["--ro-bind-try", "/etc/" + entry, "/etc/" + entry]
        }
        arguments += ["--ro-bind-try", workspace.identityDirectory.appendingPathComponent("passwd").path, "/etc/passwd"]
        arguments += ["--ro-bind-try", workspace.identityDirectory.appendingPathComponent("group").path, "/etc/group"]
        arguments += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/var/tmp", "--dir", "/run"]
        for hidden in hiddenPaths + Self.alwaysHidden where Self.isShown(hidden) && FileKind.of(hidden) != nil {
            // Not /dev/null: a device node bound inside a user namespace cannot be opened at all (nodev), which tells the job something is there.
            let empty = workspace.identityDirectory.appendingPathComponent("empty").path
            arguments += FileKind.of(hidden) == .directory ? ["--tmpfs", hidden] : ["--ro-bind", empty, hidden]
        }
        for directory in [workspace.projectDirectory.path, workspace.temporaryDirectory.path] {
            arguments += ["--bind", directory, directory]
        }
        // The sandbox's own root (where bwrap made the mount points) is read-only too: only the workspace and the tmpfs are writable.
        arguments += ["--remount-ro", "/", "--chdir", workspace.projectDirectory.path, "--"]
        // The runner may run with a strict umask (the server's is 077); jobs get the usual 022, as on a GitLab shell runner.
        return arguments + ["/bin/sh", "-c", "umask 022 && exec \"$@\"", "sh"] + command
    }

    /// Whether `path` lies under something the sandbox shows (so hiding it needs a mount of its own).
    static func isShown(_ path: String) -> Bool {
        let standardized = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
        let shown = systemDirectories + etcEntries.map { "/etc/" + $0 }
        return shown.contains { standardized == $0 || standardized.hasPrefix($0 + "/") }
    }

    /// `/etc/passwd` and `/etc/group` for the sandbox: root and the job's own account, so `id`, `whoami` and git's identity work.
    static func identityFiles(for user: JobUser?, home: String) -> (passwd: String, group: String) {
        let uid = user.map { UInt32($0.uid) } ?? UInt32(getuid())
        let gid = user.map { UInt32($0.gid) } ?? UInt32(getgid())
        var passwd = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
        var group = "root:x:0:\nnogroup:x:65534:\n"
        if uid != 0 && uid != 65534 {
            passwd += "latchkey-job:x:\(uid):\(gid):Latchkey job:\(home):/bin/sh\n"
        }
        if gid != 0 && gid != 65534 {
            group += "latchkey-job:x:\(gid):\n"
        }
        return (passwd, group)
    }
}
