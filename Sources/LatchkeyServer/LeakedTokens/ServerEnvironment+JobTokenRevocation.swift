import Foundation
import LatchkeyCore
import LatchkeyStore

extension ServerEnvironment {
    /// Ends a running job's token at once by finishing the job as canceled (which clears its digest in the same statement), writes
    /// `reason` into its trace and records `job_token_revoked` in its project's audit log. Nil when the job had already ended.
    ///
    /// `reason` is shown to whoever reads the job's trace: it never holds the token, nor anything about where it leaked that the
    /// trace's readers may not see.
    func revokeJobToken(_ job: Job, project: Project, reason: String, authorID: Int64?, details: [String: String]) async throws -> Job? {
        guard let ended = try await store.jobs.finish(jobID: job.id, status: .canceled, failureReason: nil, exitCode: nil) else { return nil }
        let line = "\n\u{1B}[31;1mLatchkey: \(reason); the job is canceled.\u{1B}[0;m\n"
        // Nothing more comes from the runner: queued refusals go in now, before the line that ends the trace.
        traces.flushNotices(jobID: job.id, force: true)
        do { try traces.append(jobID: job.id, Array(line.utf8)) } catch {
            logger.error("cannot write the revocation line into the trace", metadata: ["job": "\(job.id)", "error": "\(error)"])
        }
        do {
            try await store.auditEvents.record(
                entityID: project.id, authorID: authorID, eventName: "job_token_revoked", details: details.merging(["job_id": "\(job.id)"]) { $1 })
        } catch {
            logger.error("cannot record the revocation in the audit log", metadata: ["job": "\(job.id)", "error": "\(error)"])
        }
        logger.notice("job token revoked", metadata: ["job": "\(job.id)", "project": "\(project.fullPath)", "by": "\(details["by"] ?? "")"])
        return ended
    }
}
