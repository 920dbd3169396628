import Foundation
import LatchkeyCore
import LatchkeyStore
import ServiceLifecycle

/// Fails running jobs past their timeout and jobs whose runner went silent, killing their tokens; removes expired artifacts and
/// abandoned temporary files.
struct JobReaper: Service {
    let environment: ServerEnvironment
    let queue: JobQueue

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: environment.settings.reaperInterval)
                await reap(now: Date())
            }
        }
    }

    func reap(now: Date) async {
        do {
            let silence = Double(environment.settings.runnerSilenceLimit.components.seconds)
            let mark = environment.traceMaskingRules.mark()
            let active = try await environment.store.jobs.active()
            // Rules of jobs that ended any way (canceled, deleted, failed by another instance) are not kept until evicted.
            environment.traceMaskingRules.retain(Set(active.map(\.id)), usedBefore: mark)
            for job in active where job.definition.isBridge {
                // A bridge runs as long as its downstream pipeline; one left running with none started lost its instance mid-way.
                guard now.timeIntervalSince(job.updatedAt) > silence,
                    try await environment.store.jobs.downstreamPipelines(ofBridges: [job.id]).isEmpty
                else { continue }
                try await environment.store.jobs.finishBridge(id: job.id, status: .failed, failureReason: BridgeFailure.creationFailed.rawValue)
                environment.logger.warning("bridge reaped", metadata: ["job": "\(job.id)"])
                await queue.notify()
            }
            for job in active where !job.definition.isBridge {
                let timeout = Double(job.definition.timeoutSeconds ?? 3600)
                var reason: String?
                // A little grace past the timeout lets the runner report the timeout itself, with its trace.
                if let started = job.startedAt, now.timeIntervalSince(started) > timeout + 60 { reason = "job_execution_timeout" }
                if now.timeIntervalSince(job.updatedAt) > silence { reason = reason ?? "runner_system_failure" }
                guard let reason else { continue }
                environment.traces.flushNotices(jobID: job.id, force: true)
                try? environment.traces.append(jobID: job.id, Array("\nERROR: Job failed: \(reason == "job_execution_timeout" ? "execution took longer than \(Int(timeout)) seconds" : "the runner stopped reporting")\n".utf8))
                _ = try await environment.store.jobs.finish(jobID: job.id, status: .failed, failureReason: reason, exitCode: nil)
                environment.logger.warning("job reaped", metadata: ["job": "\(job.id)", "reason": "\(reason)"])
                await queue.notify()
            }
            for path in try await environment.store.artifacts.removeExpired(now: now) { environment.artifacts.remove(path) }
            let swept = environment.sweepAbandonedTemporaryFiles(now: now)
            if swept > 0 { environment.logger.notice("abandoned temporary files removed", metadata: ["count": "\(swept)"]) }
        } catch {
            environment.logger.error("job reaper pass failed", metadata: ["error.type": "\(type(of: error))"])
        }
    }
}

extension JobReaper {
    /// Fails the jobs still running on `runnerID` once that runner has stopped for good (an embedded runner at shutdown
    /// aborts what outlived the drain and reports nothing); their tokens die with them, not a silence limit later.
    func failJobs(ofStoppedRunner runnerID: Int64) async {
        do {
            for job in try await environment.store.jobs.active() where job.runnerID == runnerID {
                environment.traces.flushNotices(jobID: job.id, force: true)
                try? environment.traces.append(jobID: job.id, Array("\nERROR: Job failed: the server shut down before the job ended\n".utf8))
                _ = try await environment.store.jobs.finish(jobID: job.id, status: .failed, failureReason: "runner_system_failure", exitCode: nil)
                environment.logger.warning("job failed at shutdown", metadata: ["job": "\(job.id)", "runner": "\(runnerID)"])
            }
        } catch {
            environment.logger.error("could not fail the stopped runner's jobs", metadata: ["error.type": "\(type(of: error))"])
        }
    }
}

extension JobReaper: CustomStringConvertible {
    public var description: String { "JobReaper" }
}
