import Foundation
import LatchkeyCore
import SQLKit

extension JobRepository {
    /// What a job's own policy makes of its failure, inside `finish`'s transaction: `allow_failure:exit_codes` marks it
    /// allowed to fail, and `retry` re-queues it as a new job with the same name (the failed one kept, marked retried).
    ///
    /// As GitLab's `Ci::Build` state machine: an allowed exit code sets `allow_failure` on the failed job, and
    /// `auto_retry_allowed?` (within `retry:max`, `retry:when` naming the failure reason or `always`, `retry:exit_codes`
    /// naming the exit code if given) enqueues `Ci::RetryJobService` acting as the job's user.
    static func applyFailurePolicy(to failed: Job, failureReason: String?, exitCode: Int?, db: any SQLDatabase) async throws {
        var definition = failed.definition
        if let exitCode, !definition.allowFailure, definition.allowFailureExitCodes.contains(exitCode) {
            definition.allowFailure = true
            try await db.update("jobs").set("definition", to: JSONCoding.encode(definition)).where("id", .equal, failed.id).run()
        }
        guard let retry = definition.retry else { return }
        let attempts = try await db.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "attempts").from("jobs")
            .where("pipeline_id", .equal, failed.pipelineID).where("name", .equal, failed.name)
            .first()?.decode(column: "attempts", as: Int.self) ?? 1
        guard retry.retries(afterAttempts: attempts, reason: failureReason ?? "unknown_failure", exitCode: exitCode) else { return }
        let marked = try await db.update("jobs").set("retried", to: true).where("id", .equal, failed.id).where("retried", .equal, false)
            .returning("id").first()
        guard marked != nil else { return }
        _ = try await insert(definition, pipelineID: failed.pipelineID, projectID: failed.projectID, stageIndex: failed.stageIndex, userID: failed.userID, db: db)
    }
}
