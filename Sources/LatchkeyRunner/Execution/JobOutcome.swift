/// How a job ended on the runner, and what was reported.
struct JobOutcome: Sendable, Equatable {
    enum State: String, Sendable {
        case success
        case failed
        /// Stopped hard (canceled or erased on the server, or runner shutdown): nothing more is reported.
        case aborted
    }

    var state: State
    var failureReason: String?
    var exitCode: Int?
    /// The line the trace ends with.
    var summary: String = ""
    /// The final `PUT` was accepted with 200.
    var reported = false

    static let success = JobOutcome(state: .success, exitCode: 0, summary: "\u{1B}[32;1mJob succeeded\u{1B}[0;m\n")

    static func failed(_ reason: String, exitCode: Int? = nil, summary: String) -> JobOutcome {
        JobOutcome(state: .failed, failureReason: reason, exitCode: exitCode, summary: "\u{1B}[31;1mERROR: Job failed: \(summary)\u{1B}[0;m\n")
    }

    static let aborted = JobOutcome(state: .aborted)
}

/// The failure reasons this runner reports (GitLab's names).
enum FailureReason {
    static let scriptFailure = "script_failure"
    static let runnerSystemFailure = "runner_system_failure"
    static let jobExecutionTimeout = "job_execution_timeout"
    static let jobCanceled = "job_canceled"
    static let unknownFailure = "unknown_failure"
}
