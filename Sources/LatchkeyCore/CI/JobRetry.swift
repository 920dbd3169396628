/// A job's `retry:`: how often a failed job is re-queued, and for which failures.
public struct JobRetry: Codable, Sendable, Equatable {
    /// GitLab's failure reasons `retry:when` accepts.
    public static let failureReasons = [
        "always", "unknown_failure", "script_failure", "api_failure", "stuck_or_timeout_failure", "runner_system_failure",
        "runner_unsupported", "stale_schedule", "job_execution_timeout", "archived_failure", "unmet_prerequisites",
        "scheduler_failure", "data_integrity_failure",
    ]

    /// Retries after the first attempt, 0…2.
    public var max: Int
    /// Failure reasons that are retried; GitLab's default is `always`.
    public var when: [String]
    /// Exit codes that are retried; empty means any.
    public var exitCodes: [Int]

    /// A retry policy; GitLab retries every failure when `when` is not given.
    public init(max: Int, when: [String] = ["always"], exitCodes: [Int] = []) {
        self.max = max
        self.when = when
        self.exitCodes = exitCodes
    }

    /// Whether an attempt that failed for `reason` with `exitCode` is retried after `attempts` runs (GitLab's `Ci::Build#retryable?`).
    public func retries(afterAttempts attempts: Int, reason: String, exitCode: Int?) -> Bool {
        guard attempts <= max else { return false }
        guard when.contains("always") || when.contains(reason) else { return false }
        guard !exitCodes.isEmpty else { return true }
        return exitCode.map(exitCodes.contains) ?? false
    }
}
