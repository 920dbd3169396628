import Foundation

/// A job's directories: the checkout the job works in, a sibling `.tmp` for its scripts and file variables, and a runner-only directory.
///
/// The first two are mode 0700 and owned by the job user (when there is one); the runner-only
/// directory holds the local copy of the trace and artifact archives and is never handed to the job.
struct Workspace: Sendable {
    /// `<builds>/<job id>-<random>`: the checkout, `CI_PROJECT_DIR`.
    let projectDirectory: URL
    /// `<builds>/<job id>-<random>.tmp`.
    let temporaryDirectory: URL
    /// Under the system temporary directory, owned by the runner.
    let runnerDirectory: URL
    let buildsDirectory: URL
    /// `<builds>/<job id>-<random>.id`: the sandbox's `/etc/passwd` and `/etc/group`, owned by the runner and read-only to the job.
    let identityDirectory: URL

    /// Creates the directories; the builds directory is created too when missing.
    static func create(buildsDirectory: String, jobID: Int64, jobUser: JobUser?, sandboxed: Bool = false) throws -> Workspace {
        let builds = URL(fileURLWithPath: buildsDirectory, isDirectory: true).standardizedFileURL
        if FileKind.of(builds.path) == nil {
            try FileManager.default.createDirectory(at: builds.deletingLastPathComponent(), withIntermediateDirectories: true)
            // 0711: a job user must be able to reach its own workspace, but not list the others.
            do {
                try PrivateFile.makeDirectory(builds.path, mode: jobUser == nil ? 0o700 : 0o711)
            } catch where FileKind.of(builds.path) == .directory {
                // Another worker created it first.
            }
        } else if jobUser != nil {
            _ = chmod(builds.path, 0o711)
        }
        if sandboxed, let jobUser { try requireTraversable(builds, by: jobUser) }
        let name = "\(jobID)-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let project = builds.appendingPathComponent(name, isDirectory: true)
        let temporary = builds.appendingPathComponent(name + ".tmp", isDirectory: true)
        let runner = FileManager.default.temporaryDirectory.appendingPathComponent("latchkey-runner-\(name)", isDirectory: true)
        let identity = builds.appendingPathComponent(name + ".id", isDirectory: true)
        let workspace = Workspace(
            projectDirectory: project, temporaryDirectory: temporary, runnerDirectory: runner, buildsDirectory: builds, identityDirectory: identity)
        do {
            try PrivateFile.makeDirectory(project.path)
            try PrivateFile.makeDirectory(temporary.path)
            try PrivateFile.makeDirectory(runner.path)
            if sandboxed {
                // 0755 and the runner's: the job's uid reads these (bwrap binds them as that uid) but cannot change them.
                try PrivateFile.makeDirectory(identity.path, mode: 0o755)
                let files = JobSandbox.identityFiles(for: jobUser, home: temporary.path)
                try PrivateFile.write(Array(files.passwd.utf8), to: identity.appendingPathComponent("passwd").path, mode: 0o644)
                try PrivateFile.write(Array(files.group.utf8), to: identity.appendingPathComponent("group").path, mode: 0o644)
                try PrivateFile.write([], to: identity.appendingPathComponent("empty").path, mode: 0o644)
                for file in ["passwd", "group", "empty"] { _ = chmod(identity.appendingPathComponent(file).path, 0o644) }
            }
            if let jobUser {
                try workspace.handOver(to: jobUser)
            }
        } catch {
            workspace.remove()
            throw error
        }
        return workspace
    }

    /// bwrap runs as the job's uid and must reach the workspace: every directory above it needs the search bit for others.
    static func requireTraversable(_ builds: URL, by user: JobUser) throws {
        var directory = builds.deletingLastPathComponent()
        while directory.path != "/" && !directory.path.isEmpty {
            var status = stat()
            if stat(directory.path, &status) == 0, status.st_uid != user.uid, status.st_mode & 0o001 == 0 {
                throw RunnerError.invalidConfiguration(
                    "\(directory.path) (mode \(String(status.st_mode & 0o777, radix: 8))) does not let job uids pass: choose a builds directory "
                        + "(--builds-dir) whose parent directories others may traverse (chmod o+x)")
            }
            directory = directory.deletingLastPathComponent()
        }
    }

    /// Gives the project and temporary directories, and everything in them, to the job user (without following links).
    func handOver(to user: JobUser) throws {
        for root in [projectDirectory, temporaryDirectory] {
            try Self.walk(root.path) { path in
                guard lchown(path, user.uid, user.gid) == 0 else { throw PrivateFile.error(path) }
            }
        }
    }

    /// Removes all three directories, whatever the job left in them.
    func remove() {
        for directory in [projectDirectory, temporaryDirectory, runnerDirectory, identityDirectory] where FileKind.of(directory.path) != nil {
            if (try? FileManager.default.removeItem(at: directory)) == nil {
                // Read-only directories (a Go module cache, say) stop removal; make them writable and retry.
                try? Self.walk(directory.path) { path in
                    if FileKind.of(path) == .directory { _ = chmod(path, 0o700) }
                }
                try? FileManager.default.removeItem(at: directory)
            }
        }
    }

    /// Calls `body` for `path` and everything below it, never following symbolic links.
    static func walk(_ path: String, _ body: (String) throws -> Void) throws {
        try body(path)
        guard FileKind.of(path) == .directory else { return }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? [] {
            try walk(path + "/" + name, body)
        }
    }
}
