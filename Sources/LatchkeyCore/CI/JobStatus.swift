/// A job's status, as GitLab names it.
public enum JobStatus: String, Codable, Sendable, CaseIterable {
    case created, pending, running, success, failed, canceled, canceling, skipped, manual, scheduled

    /// Whether the job has reached a final state (GitLab's `COMPLETED_STATUSES`).
    public var isFinished: Bool {
        switch self {
        case .success, .failed, .canceled, .skipped: true
        default: false
        }
    }

    /// Whether the job is queued or holds a runner.
    public var isActive: Bool {
        switch self {
        case .pending, .running, .canceling: true
        default: false
        }
    }
}
