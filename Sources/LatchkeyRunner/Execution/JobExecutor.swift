import Foundation
import LatchkeyCore
import Logging

/// Runs one job with the shell executor: fresh workspace, clone, dependencies, `script`, `after_script`, artifacts, final report.
///
/// Two child tasks share the job: the steps, and a trace watcher that sends the masked
/// trace, sends keep-alives and turns the server's `Job-Status` into stop requests.
struct JobExecutor: Sendable {
    let configuration: RunnerConfiguration
    let api: any RunnerAPI
    let settings: ExecutorSettings
    let logger: Logger
    /// The runner's own environment, of which only `PATH`, `HOME` and `LANG` reach jobs (and with the sandbox, only `LANG`).
    let runnerEnvironment: [String: String]
    /// How job processes are sandboxed; nil for the `shell-unsafe` executor.
    let sandbox: JobSandbox?

    init(
        configuration: RunnerConfiguration, api: any RunnerAPI, settings: ExecutorSettings = ExecutorSettings(), logger: Logger,
        runnerEnvironment: [String: String] = ProcessInfo.processInfo.environment, sandbox: JobSandbox? = nil
    ) {
        self.configuration = configuration
        self.api = api
        self.settings = settings
        self.logger = logger
        self.runnerEnvironment = runnerEnvironment
        self.sandbox = sandbox
    }

    /// Runs the job to the end and reports it; never throws, whatever the job or the server does.
    func run(_ job: JobPayload, control: JobControl = JobControl()) async -> JobOutcome {
        var logger = logger
        logger[metadataKey: "job"] = "\(job.id)"
        let started = ContinuousClock.now
        var jobUser: JobUser?
        let workspace: Workspace
        let trace: TraceStream
        // Held until the job's last process is gone: no other job gets this uid meanwhile.
        let slot: JobSlot?
        do {
            let resolved = try resolveJobUser()
            jobUser = resolved.user
            slot = resolved.slot
            workspace = try Workspace.create(buildsDirectory: configuration.buildsDirectory, jobID: job.id, jobUser: jobUser, sandboxed: sandbox != nil)
            if slot != nil { jobUser?.home = workspace.temporaryDirectory.path }
        } catch {
            logger.error("cannot prepare the job: \(error)")
            return await reportWithoutTrace(job, reason: FailureReason.runnerSystemFailure)
        }
        defer {
            workspace.remove()
            withExtendedLifetime(slot) {}
        }
        do {
            let rules = SecretMaskingRules(
                secrets: JobEnvironment.secrets(of: job, runnerToken: configuration.token), prefixes: JobEnvironment.maskPrefixes(of: job))
            trace = try TraceStream(jobID: job.id, jobToken: job.token, rules: rules, directory: workspace.runnerDirectory, api: api, settings: settings)
        } catch {
            logger.error("cannot create the job's trace: \(error)")
            return await reportWithoutTrace(job, reason: FailureReason.runnerSystemFailure)
        }
        logger.info("job started")
        let outcome = await withTaskGroup(of: Void.self, returning: JobOutcome.self) { group in
            group.addTask { await self.watchTrace(trace, job: job, control: control) }
            let outcome = await self.execute(job, workspace: workspace, jobUser: jobUser, trace: trace, control: control, started: started)
            control.markFinished()
            await group.waitForAll()
            return outcome
        }
        let reported = await report(outcome, job: job, trace: trace, control: control)
        await trace.discard()
        logger.info("job finished", metadata: ["state": "\(reported.state.rawValue)", "reported": "\(reported.reported)"])
        return reported
    }

    /// Who job processes run as: with the sandbox and a root runner, a uid of the job uid range of its own; else `job_user`, if any.
    private func resolveJobUser() throws -> (user: JobUser?, slot: JobSlot?) {
        if sandbox != nil {
            guard geteuid() == 0 else { return (nil, nil) }
            guard let slot = try JobSlot.acquire(in: configuration.jobUIDRange) else {
                throw RunnerError.invalidConfiguration("every uid of the job uid range \(configuration.jobUIDRange) is in use")
            }
            return (slot.user(home: "/tmp"), slot)
        }
        guard let name = configuration.jobUser, !name.isEmpty else { return (nil, nil) }
        guard geteuid() == 0 else {
            logger.warning("job_user \(name) is ignored: the runner is not running as root")
            return (nil, nil)
        }
        return (try JobUser.lookup(name), nil)
    }

    // MARK: Trace watcher

    /// Sends pending trace at least every `traceSendInterval` (at once past `traceSendThreshold`), keep-alives when quiet, until the job's steps end.
    func watchTrace(_ trace: TraceStream, job: JobPayload, control: JobControl) async {
        let clock = ContinuousClock()
        while !control.isFinished, !Task.isCancelled {
            try? await Task.sleep(for: settings.traceCheckInterval)
            if control.isFinished || Task.isCancelled { break }
            let pending = await trace.pendingByteCount
            let lastSend = await trace.lastSend
            if pending >= settings.traceSendThreshold || (pending > 0 && clock.now - lastSend >= settings.traceSendInterval) {
                apply(await trace.sendPending().remoteState, to: control)
            } else if clock.now - (await trace.lastContact) >= settings.keepAliveInterval {
                await trace.noteContact()
                guard let response = try? await api.updateJob(id: job.id, update: JobUpdate(token: job.token, state: "running")) else { continue }
                apply(Self.remoteState(status: response.status, jobStatus: response.jobStatus), to: control)
            }
        }
    }

    private func apply(_ state: TraceStream.RemoteState, to control: JobControl) {
        switch state {
        case .running: break
        case .canceling: control.requestStop(.graceful)
        case .gone: control.requestStop(.abort)
        }
    }

    static func remoteState(status: Int, jobStatus: String?) -> TraceStream.RemoteState {
        if status == 403 || status == 404 { return .gone }
        switch jobStatus {
        case "canceling": return .canceling
        case "canceled", "failed": return .gone
        default: return .running
        }
    }

    // MARK: Final report

    /// Sends the rest of the trace and the final `PUT`, retrying on 202, resending the trace on 412, giving up quietly on 403/404.
    func report(_ outcome: JobOutcome, job: JobPayload, trace: TraceStream, control: JobControl) async -> JobOutcome {
        var outcome = outcome
        if outcome.state == .aborted || control.stopRequest == .abort {
            logger.notice("job \(job.id) aborted: nothing more is reported")
            return .aborted
        }
        await trace.write(outcome.summary)
        await trace.finishMasking()
        var resends = 0
        for attempt in 0..<settings.finalUpdateAttempts {
            if attempt > 0 { try? await Task.sleep(for: settings.finalUpdateRetryDelay) }
            if await trace.sendPending().remoteState == .gone { return outcome }
            let update = JobUpdate(
                token: job.token, state: outcome.state.rawValue, failureReason: outcome.failureReason, exitCode: outcome.exitCode,
                output: JobUpdate.Output(checksum: await trace.checksum, bytesize: await trace.size))
            guard let response = try? await api.updateJob(id: job.id, update: update) else { continue }
            switch response.status {
            case 200:
                outcome.reported = true
                return outcome
            case 412:
                // The server's copy differs from ours: send it all again, then report again.
                resends += 1
                if resends > 3 { return outcome }
                await trace.restartFromZero()
            case 403, 404:
                return outcome
            default:
                // 202: the server is still processing the trace; anything else: try again.
                continue
            }
        }
        logger.warning("job \(job.id): the final update was not accepted")
        return outcome
    }

    private func reportWithoutTrace(_ job: JobPayload, reason: String) async -> JobOutcome {
        let outcome = JobOutcome(state: .failed, failureReason: reason)
        let update = JobUpdate(token: job.token, state: "failed", failureReason: reason, output: JobUpdate.Output(checksum: CRC32.checksum([]), bytesize: 0))
        var reported = outcome
        if let response = try? await api.updateJob(id: job.id, update: update), response.status == 200 { reported.reported = true }
        return reported
    }

    /// `preferred` when the server lists it in `features.failure_reasons`, else `unknown_failure` (as GitLab Runner does).
    static func failureReason(_ preferred: String, for job: JobPayload) -> String {
        let supported = job.features.failureReasons
        if supported.isEmpty || supported.contains(preferred) { return preferred }
        return supported.contains(FailureReason.unknownFailure) ? FailureReason.unknownFailure : preferred
    }
}
