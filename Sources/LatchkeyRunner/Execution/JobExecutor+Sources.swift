import Foundation
import LatchkeyCore

extension JobExecutor {
    /// Clones the job's commit into the project directory: `git init`, `git fetch` of the refspecs, `git checkout --detach`.
    ///
    /// The credentials in `repo_url` never reach the trace, the process list or `.git/config`:
    /// `origin` is the URL without them, and the job token travels as an `Authorization` header
    /// configured through `GIT_CONFIG_*` environment variables of the git processes only.
    func fetchSources(
        _ job: JobPayload, workspace: Workspace, launcher: ProcessLauncher, trace: TraceStream, control: JobControl, deadline: ContinuousClock.Instant
    ) async -> PhaseResult {
        let strategy = job.variables.last { $0.key == "GIT_STRATEGY" }?.value ?? "fetch"
        if strategy == "none" {
            await trace.write("Skipping Git repository setup\n")
            return .ok
        }
        let basePath = sandbox != nil ? JobSandbox.path : runnerEnvironment["PATH"] ?? JobSandbox.path
        guard let git = JobEnvironment.resolve("git", path: basePath) else {
            return .failed(await gitFailure("git is not installed on the runner", job: job, trace: trace))
        }
        let remote = Self.splitCredentials(job.gitInfo.repoUrl)
        var environment = JobEnvironment.base(
            runnerEnvironment: runnerEnvironment, shellPath: "/bin/sh", jobUser: launcher.jobUser, sandboxHome: launcher.sandboxHome)
        environment["GIT_TERMINAL_PROMPT"] = "0"
        if let header = remote.authorizationHeader, let origin = remote.origin {
            environment["GIT_CONFIG_COUNT"] = "1"
            environment["GIT_CONFIG_KEY_0"] = "http.\(origin).extraHeader"
            environment["GIT_CONFIG_VALUE_0"] = header
        }
        let directory = workspace.projectDirectory.path
        let depth = job.gitInfo.depth
        await trace.write(depth > 0 ? "Fetching changes with git depth set to \(depth)...\n" : "Fetching changes...\n")
        await trace.write("Initialized empty Git repository in \(directory)/.git/\nCreated fresh repository.\n")
        let refspecs = job.gitInfo.refspecs.isEmpty ? ["+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"] : job.gitInfo.refspecs
        var fetch = [git, "-C", directory, "fetch", "--prune", "--no-recurse-submodules"]
        if depth > 0 { fetch += ["--depth", String(depth)] }
        fetch += ["origin"] + refspecs
        let commands: [(name: String, arguments: [String], message: String?)] = [
            ("init", [git, "-c", "init.defaultBranch=main", "init", "--quiet", "--template=", directory], nil),
            ("remote", [git, "-C", directory, "remote", "add", "origin", remote.url], nil),
            ("fetch", fetch, nil),
            ("checkout", [git, "-C", directory, "-c", "advice.detachedHead=false", "checkout", "--force", "--quiet", "--detach", job.gitInfo.sha],
             "Checking out \(job.gitInfo.sha.prefix(8)) as detached HEAD (ref is \(job.gitInfo.ref))...\n"),
        ]
        for command in commands {
            if let message = command.message { await trace.write(message) }
            let process: ProcessOutcome
            do {
                process = try await runProcess(
                    launcher.arguments(command.arguments), environment: environment, deadline: deadline, gracefulStops: true, trace: trace, control: control,
                    infoDescriptor: launcher.infoDescriptor)
            } catch {
                return .failed(await gitFailure("cannot run git: \(error)", job: job, trace: trace))
            }
            if let stop = process.stoppedBy { return .stopped(stop) }
            if process.timedOut {
                return .failed(.failed(Self.failureReason(FailureReason.jobExecutionTimeout, for: job), summary: "execution took longer than \(Self.goDuration(job.runnerInfo.timeout)) seconds"))
            }
            if process.exitCode != 0 {
                return .failed(await gitFailure("git \(command.name) failed with exit code \(process.exitCode)", job: job, trace: trace))
            }
        }
        await trace.write("Skipping Git submodules setup\n")
        return .ok
    }

    private func gitFailure(_ message: String, job: JobPayload, trace: TraceStream) async -> JobOutcome {
        await trace.write("\u{1B}[31;1mERROR: \(message)\u{1B}[0;m\n")
        return .failed(Self.failureReason(FailureReason.runnerSystemFailure, for: job), summary: "(system failure): \(message)")
    }

    /// `repo_url` without its user information, the `scheme://host:port/` it is sent to, and the credentials as an HTTP Basic header.
    static func splitCredentials(_ repoURL: String) -> (url: String, origin: String?, authorizationHeader: String?) {
        guard var components = URLComponents(string: repoURL) else { return (repoURL, nil, nil) }
        let user = components.user.map { $0.removingPercentEncoding ?? $0 }
        let password = components.password.map { $0.removingPercentEncoding ?? $0 }
        components.user = nil
        components.password = nil
        let url = components.string ?? repoURL
        guard let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https", let host = components.host else {
            return (url, nil, nil)
        }
        let origin = "\(scheme)://\(host)" + (components.port.map { ":\($0)" } ?? "") + "/"
        guard let user, let password else { return (url, origin, nil) }
        return (url, origin, "Authorization: Basic " + Data("\(user):\(password)".utf8).base64EncodedString())
    }
}
