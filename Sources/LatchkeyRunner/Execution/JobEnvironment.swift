import Foundation
import LatchkeyCore

/// The environment a job's processes get: a minimal base from the runner, the job's variables, and the runner's `CI_*` additions.
///
/// Nothing else of the runner's own environment is passed on: the runner may hold secrets
/// (its `glrt-` token, cloud credentials) that no job may read.
struct JobEnvironment: Sendable, Equatable {
    var variables: [String: String]

    /// The runner-side base: `PATH`, `HOME`, `LANG`, `SHELL` (and `USER`/`LOGNAME` for a job user).
    ///
    /// In a sandbox (`sandboxHome` set) `PATH` is the system's and `HOME` the job's private temporary directory: the runner's
    /// own `PATH` may name tools under a home the sandbox does not show.
    static func base(runnerEnvironment: [String: String], shellPath: String, jobUser: JobUser?, sandboxHome: String? = nil) -> [String: String] {
        var base = [
            "PATH": sandboxHome != nil ? JobSandbox.path : runnerEnvironment["PATH"] ?? JobSandbox.path,
            "HOME": sandboxHome ?? jobUser?.home ?? runnerEnvironment["HOME"] ?? "/",
            "LANG": runnerEnvironment["LANG"] ?? "C.UTF-8",
            "SHELL": shellPath,
        ]
        if let jobUser {
            base["USER"] = jobUser.name
            base["LOGNAME"] = jobUser.name
        }
        return base
    }

    /// Builds the job's environment, writing `file: true` variables into the workspace's temporary directory (mode 0600).
    static func make(
        job: JobPayload, workspace: Workspace, shellPath: String, jobUser: JobUser?, runnerEnvironment: [String: String], sandboxHome: String? = nil
    ) throws -> JobEnvironment {
        var variables = base(runnerEnvironment: runnerEnvironment, shellPath: shellPath, jobUser: jobUser, sandboxHome: sandboxHome)
        for variable in job.variables where isValidName(variable.key) {
            if variable.file {
                let path = workspace.temporaryDirectory.appendingPathComponent(variable.key).path
                if FileKind.of(path) != nil { try FileManager.default.removeItem(atPath: path) }
                try PrivateFile.write(Array(variable.value.utf8), to: path)
                if let jobUser { guard lchown(path, jobUser.uid, jobUser.gid) == 0 else { throw PrivateFile.error(path) } }
                variables[variable.key] = path
            } else {
                variables[variable.key] = variable.value
            }
        }
        // GitLab Runner defines these itself; they describe this runner's layout, not the server's.
        variables["CI_PROJECT_DIR"] = workspace.projectDirectory.path
        variables["CI_BUILDS_DIR"] = workspace.buildsDirectory.path
        variables["CI_SHARED_ENVIRONMENT"] = "true"
        variables["CI_RUNNER_EXECUTABLE_ARCH"] = "\(RunnerPlatform.platform)/\(RunnerPlatform.architecture)"
        variables["CI_RUNNER_VERSION"] = RunnerPlatform.version
        variables["CI_JOB_STATUS"] = "running"
        return JobEnvironment(variables: variables)
    }

    /// Environment variable names a shell accepts (and safe as file names).
    static func isValidName(_ name: String) -> Bool {
        guard let first = name.utf8.first, first == UInt8(ascii: "_") || (first | 0x20) >= UInt8(ascii: "a") && (first | 0x20) <= UInt8(ascii: "z") else {
            return false
        }
        return name.utf8.allSatisfy { byte in
            byte == UInt8(ascii: "_") || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || ((byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z"))
        }
    }

    /// The values a job's trace must never show: masked variables, the job's token and the runner's own token.
    static func secrets(of job: JobPayload, runnerToken: String) -> [String] {
        var secrets = job.variables.filter(\.masked).map(\.value)
        secrets.append(job.token)
        secrets += job.dependencies.map(\.token)
        secrets.append(runnerToken)
        return Array(Set(secrets)).sorted()
    }

    /// Token prefixes to mask: ours and the server's `token_mask_prefixes`.
    static func maskPrefixes(of job: JobPayload) -> [String] {
        Array(Set(SecretMaskingRules.tokenPrefixes + job.features.tokenMaskPrefixes)).sorted()
    }

    /// Finds an executable by name in `path` (or checks an absolute path).
    static func resolve(_ command: String, path: String) -> String? {
        if command.hasPrefix("/") { return access(command, X_OK) == 0 ? command : nil }
        for directory in path.split(separator: ":") where !directory.isEmpty {
            let candidate = directory + "/" + command
            if access(candidate, X_OK) == 0, FileKind.of(candidate) != .directory { return String(candidate) }
        }
        return nil
    }
}
