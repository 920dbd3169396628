import Foundation
import LatchkeyCore

/// What happened to one process.
struct ProcessOutcome: Sendable, Equatable {
    var exitCode: Int32
    var timedOut = false
    var stoppedBy: JobControl.Stop?
}

/// Where the job got to, for the steps that follow.
enum PhaseResult: Sendable, Equatable {
    case ok
    case failed(JobOutcome)
    case stopped(JobControl.Stop)
}

/// What a job step needs about how processes are started: in the job's sandbox, or (shell-unsafe) directly as the job user or the runner.
struct ProcessLauncher: Sendable {
    let jobUser: JobUser?
    let setpriv: String?
    let sandbox: JobSandbox?
    let workspace: Workspace

    /// The descriptor bwrap reports the sandbox's pid namespace on.
    static let sandboxInfoDescriptor: Int32 = 3

    /// The arguments that run `command` for the job.
    func arguments(_ command: [String]) -> [String] {
        if let sandbox {
            return sandbox.arguments(command, workspace: workspace, user: jobUser, infoDescriptor: Self.sandboxInfoDescriptor)
        }
        guard let jobUser, let setpriv else { return command }
        return jobUser.wrapping(command, setpriv: setpriv)
    }

    /// The info descriptor to give the process, when it is sandboxed.
    var infoDescriptor: Int32? { sandbox == nil ? nil : Self.sandboxInfoDescriptor }

    /// The job's `HOME` inside the sandbox: its private temporary directory (nothing of the runner's home is visible).
    var sandboxHome: String? { sandbox == nil ? nil : workspace.temporaryDirectory.path }
}

extension JobExecutor {
    /// The job's phases in GitLab's order; returns how it ended.
    func execute(_ job: JobPayload, workspace: Workspace, jobUser: JobUser?, trace: TraceStream, control: JobControl, started: ContinuousClock.Instant) async
        -> JobOutcome
    {
        let deadline = started + .seconds(max(job.runnerInfo.timeout, 1))
        let basePath = sandbox != nil ? JobSandbox.path : runnerEnvironment["PATH"] ?? JobSandbox.path
        await trace.write("Running with \(RunnerPlatform.name) \(RunnerPlatform.version)\n  on \(configuration.name)\n")
        func systemFailure(_ message: String) async -> JobOutcome {
            await trace.write("\u{1B}[31;1mERROR: \(message)\u{1B}[0;m\n")
            return .failed(Self.failureReason(FailureReason.runnerSystemFailure, for: job), summary: "(system failure): \(message)")
        }

        // Prepare.
        guard let shellPath = JobEnvironment.resolve(configuration.shell, path: basePath) else {
            return await systemFailure("shell \(configuration.shell) not found")
        }
        var setpriv: String?
        if jobUser != nil && sandbox == nil {
            guard let found = JobEnvironment.resolve("setpriv", path: basePath) else { return await systemFailure("setpriv (util-linux) is needed to run jobs as another user") }
            setpriv = found
        }
        let launcher = ProcessLauncher(jobUser: jobUser, setpriv: setpriv, sandbox: sandbox, workspace: workspace)
        let shellName = URL(fileURLWithPath: shellPath).lastPathComponent
        await section("prepare_executor", "Preparing the \"\(sandbox == nil ? "shell" : "sandbox")\" executor", job: job, trace: trace) {
            if sandbox != nil {
                let who = jobUser.map { "uid \($0.uid)" } ?? "the runner's uid in a user namespace"
                await trace.write("Using Shell (\(shellName)) in a bubblewrap sandbox as \(who)...\n")
            } else {
                await trace.write("Using Shell (\(shellName)) executor without a sandbox (shell-unsafe)...\n")
            }
            await trace.write("Running on \(ProcessInfo.processInfo.hostName)...\n")
        }
        let environment: JobEnvironment
        do {
            environment = try JobEnvironment.make(
                job: job, workspace: workspace, shellPath: shellPath, jobUser: jobUser, runnerEnvironment: runnerEnvironment, sandboxHome: launcher.sandboxHome)
        } catch {
            return await systemFailure("cannot prepare the job's environment: \(error)")
        }

        // Sources and dependencies.
        let sources = await section("get_sources", "Getting source from Git repository", job: job, trace: trace) {
            await self.fetchSources(job, workspace: workspace, launcher: launcher, trace: trace, control: control, deadline: deadline)
        }
        switch sources {
        case .ok: break
        case .failed(let outcome): return outcome
        case .stopped(let stop): return await stopped(stop, job: job, trace: trace)
        }
        if job.dependencies.contains(where: { $0.artifactsFile != nil }) {
            let downloaded = await section("download_artifacts", "Downloading artifacts", job: job, trace: trace) {
                await self.downloadDependencies(job, workspace: workspace, trace: trace)
            }
            if case .failed(let outcome) = downloaded { return outcome }
        }
        if let jobUser {
            do { try workspace.handOver(to: jobUser) } catch { return await systemFailure("cannot hand the workspace over to \(jobUser.name): \(error)") }
        }
        if let stop = control.stopRequest { return await stopped(stop, job: job, trace: trace) }

        // The script.
        var outcome = JobOutcome.success
        if let step = job.steps.first(where: { $0.name == "script" }) {
            let result = await section("step_script", "Executing \"step_script\" stage of the job script", job: job, trace: trace) {
                await self.runStep(
                    step.script, name: "script", environment: environment.variables, workspace: workspace, shellPath: shellPath, launcher: launcher,
                    trace: trace, control: control, deadline: deadline, gracefulStops: true)
            }
            switch result {
            case .failure(let failure):
                return await systemFailure(failure.description)
            case .success(let process):
                if process.stoppedBy == .abort { return .aborted }
                if process.stoppedBy == .graceful {
                    outcome = .failed(Self.failureReason(FailureReason.jobCanceled, for: job), summary: "canceled")
                } else if process.timedOut {
                    outcome = .failed(
                        Self.failureReason(FailureReason.jobExecutionTimeout, for: job),
                        summary: "execution took longer than \(Self.goDuration(job.runnerInfo.timeout)) seconds")
                } else if process.exitCode != 0 {
                    outcome = .failed(Self.failureReason(FailureReason.scriptFailure, for: job), exitCode: Int(process.exitCode), summary: "exit code \(process.exitCode)")
                }
            }
        }

        // after_script, whatever the script did (not after a hard abort).
        if let step = job.steps.first(where: { $0.name == "after_script" }), !step.script.isEmpty, control.stopRequest != .abort {
            var variables = environment.variables
            variables["CI_JOB_STATUS"] = control.stopRequest == .graceful ? "canceled" : outcome.state == .success ? "success" : "failed"
            let result = await section("after_script", "Running after_script", job: job, trace: trace) {
                await self.runStep(
                    step.script, name: "after_script", environment: variables, workspace: workspace, shellPath: shellPath, launcher: launcher,
                    trace: trace, control: control, deadline: .now + settings.afterScriptTimeout, gracefulStops: false)
            }
            switch result {
            case .success(let process) where process.stoppedBy == .abort: return .aborted
            case .success(let process) where process.timedOut:
                await trace.write("\u{1B}[0;33mWARNING: after_script failed, but job will continue unaffected: execution took longer than its timeout\u{1B}[0;m\n")
            case .success(let process) where process.exitCode != 0:
                // GitLab: after_script failures never change the job's result.
                await trace.write("\u{1B}[0;33mWARNING: after_script failed, but job will continue unaffected: exit code \(process.exitCode)\u{1B}[0;m\n")
            case .failure(let failure):
                await trace.write("\u{1B}[0;33mWARNING: after_script could not run: \(failure)\u{1B}[0;m\n")
            default: break
            }
        }
        if control.stopRequest == .abort { return .aborted }
        if control.stopRequest == .graceful {
            // A canceled job uploads nothing (GitLab).
            return outcome.state == .success ? .failed(Self.failureReason(FailureReason.jobCanceled, for: job), summary: "canceled") : outcome
        }

        // Artifacts for this outcome.
        let wanted = job.artifacts.filter { spec in
            spec.when == "always" || (spec.when == "on_failure" ? outcome.state == .failed : outcome.state == .success)
        }
        if !wanted.isEmpty {
            let uploadFailure = await section("upload_artifacts", "Uploading artifacts for \(outcome.state == .success ? "successful" : "failed") job", job: job, trace: trace) {
                await self.uploadArtifacts(wanted, job: job, workspace: workspace, trace: trace)
            }
            if let uploadFailure, outcome.state == .success {
                // GitLab Runner fails the job when an upload fails; the uploader runs as a job stage, so the reason is script_failure.
                outcome = .failed(Self.failureReason(FailureReason.scriptFailure, for: job), exitCode: 1, summary: uploadFailure)
            }
        }
        return outcome
    }

    /// `1h0m0s`, as GitLab Runner prints durations.
    static func goDuration(_ seconds: Int) -> String {
        let hours = seconds / 3600, minutes = seconds % 3600 / 60, rest = seconds % 60
        if hours > 0 { return "\(hours)h\(minutes)m\(rest)s" }
        if minutes > 0 { return "\(minutes)m\(rest)s" }
        return "\(rest)s"
    }

    private func stopped(_ stop: JobControl.Stop, job: JobPayload, trace: TraceStream) async -> JobOutcome {
        if stop == .abort { return .aborted }
        return .failed(Self.failureReason(FailureReason.jobCanceled, for: job), summary: "canceled")
    }

    /// Writes the step's script to the workspace's temporary directory and runs it in one shell process.
    func runStep(
        _ commands: [String], name: String, environment: [String: String], workspace: Workspace, shellPath: String, launcher: ProcessLauncher,
        trace: TraceStream, control: JobControl, deadline: ContinuousClock.Instant, gracefulStops: Bool
    ) async -> Result<ProcessOutcome, StepFailure> {
        let scriptPath = workspace.temporaryDirectory.appendingPathComponent("\(name).sh").path
        do {
            if FileKind.of(scriptPath) != nil { try FileManager.default.removeItem(atPath: scriptPath) }
            try PrivateFile.write(Array(ShellScript.render(commands, workingDirectory: workspace.projectDirectory.path).utf8), to: scriptPath, mode: 0o700)
            if let jobUser = launcher.jobUser, lchown(scriptPath, jobUser.uid, jobUser.gid) != 0 { throw PrivateFile.error(scriptPath) }
        } catch {
            return .failure(StepFailure("cannot write the \(name) script: \(error)"))
        }
        do {
            let process = try await runProcess(
                launcher.arguments([shellPath, scriptPath]), environment: environment, deadline: deadline, gracefulStops: gracefulStops, trace: trace,
                control: control, infoDescriptor: launcher.infoDescriptor)
            if process.timedOut { await trace.write("\n") }
            return .success(process)
        } catch {
            return .failure(StepFailure("cannot start \(shellPath): \(error)"))
        }
    }

    /// Runs a process to its end, streaming its output into the trace.
    ///
    /// On the deadline or a stop request the process group gets SIGTERM, then SIGKILL after
    /// `killGracePeriod`; an abort is SIGKILL at once. When the process exits, whatever it left
    /// running in its group is killed, so background children cannot outlive the step.
    ///
    /// A sandboxed process (`infoDescriptor` set) is bwrap: SIGTERM to it would end the sandbox at once, so a graceful
    /// stop signals the processes inside its PID namespace instead; SIGKILL of bwrap ends them all (`--die-with-parent`).
    func runProcess(
        _ arguments: [String], environment: [String: String], deadline: ContinuousClock.Instant?, gracefulStops: Bool, trace: TraceStream,
        control: JobControl, infoDescriptor: Int32? = nil
    ) async throws -> ProcessOutcome {
        var process = try ChildProcess.spawn(arguments, environment: environment, infoDescriptor: infoDescriptor)
        defer { process.closeOutput() }
        var sandboxInfo: [UInt8] = []
        func terminate() {
            guard infoDescriptor != nil else { return process.signalGroup(SIGTERM) }
            sandboxInfo += process.readInfo()
            if let info = SandboxInfo.parse(sandboxInfo) {
                info.signalMembers(SIGTERM)
            } else {
                // Not set up yet: nothing of the job's own runs, so there is nothing to stop gracefully.
                process.signalGroup(SIGKILL)
            }
        }
        let clock = ContinuousClock()
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        var outcome = ProcessOutcome(exitCode: -1)
        var terminatedAt: ContinuousClock.Instant?
        var killed = false
        var drainDeadline: ContinuousClock.Instant?
        var endOfFile = false
        while true {
            var readSomething = false
            // Bounded, so a process that floods its output still gets its deadline checked.
            for _ in 0..<16 where !endOfFile {
                switch process.read(into: &buffer) {
                case .data(let count):
                    await trace.write(Array(buffer[0..<count]))
                    readSomething = true
                    continue
                case .endOfFile:
                    endOfFile = true
                case .wouldBlock:
                    break
                }
                break
            }
            if let drainDeadline {
                if endOfFile || clock.now >= drainDeadline || Task.isCancelled { break }
            } else if process.hasExited() {
                process.signalGroup(SIGKILL)
                drainDeadline = clock.now + settings.outputDrainTimeout
                continue
            } else {
                var stop = control.stopRequest
                if stop == .graceful && !gracefulStops { stop = nil }
                if Task.isCancelled { stop = .abort }
                if let stop, outcome.stoppedBy.map({ $0 < stop }) ?? true {
                    outcome.stoppedBy = stop
                    if stop == .abort {
                        process.signalGroup(SIGKILL)
                        killed = true
                    } else if terminatedAt == nil {
                        terminate()
                        terminatedAt = clock.now
                    }
                }
                if terminatedAt == nil, !killed, let deadline, clock.now >= deadline {
                    outcome.timedOut = true
                    terminate()
                    terminatedAt = clock.now
                }
                if let terminatedAt, !killed, clock.now - terminatedAt >= settings.killGracePeriod {
                    process.signalGroup(SIGKILL)
                    killed = true
                }
            }
            if !readSomething { try? await Task.sleep(for: settings.processPollInterval) }
        }
        outcome.exitCode = process.reap()
        return outcome
    }

    /// Runs `body` inside a collapsible GitLab trace section (when the server supports them).
    func section<T>(_ name: String, _ header: String, job: JobPayload, trace: TraceStream, _ body: () async -> T) async -> T {
        let sections = job.features.traceSections
        let start = Int(Date().timeIntervalSince1970)
        if sections {
            await trace.write("\u{1B}[0Ksection_start:\(start):\(name)\r\u{1B}[0K\u{1B}[36;1m\(header)\u{1B}[0;m\n")
        } else {
            await trace.write("\u{1B}[36;1m\(header)\u{1B}[0;m\n")
        }
        let result = await body()
        if sections {
            await trace.write("\u{1B}[0Ksection_end:\(Int(Date().timeIntervalSince1970)):\(name)\r\u{1B}[0K")
        }
        return result
    }
}

/// A runner-side reason a step could not run.
struct StepFailure: Error, Equatable, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
