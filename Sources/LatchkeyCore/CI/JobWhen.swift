/// Where a job's `when:` puts it.
///
/// `never` exists for `rules:`; GitLab refuses `when: never` on a job itself, and so does the parser.
public enum JobWhen: String, Codable, Sendable, CaseIterable {
    case onSuccess = "on_success"
    case onFailure = "on_failure"
    case manual
    /// Runs `start_in` after its prerequisites succeed (status `scheduled` until then), or when played.
    case delayed
    case always
    case never
}
