/// A pipeline's status, as GitLab names it.
public enum PipelineStatus: String, Codable, Sendable, CaseIterable {
    case created, pending, running, success, failed, canceled, canceling, skipped, manual, scheduled
}
