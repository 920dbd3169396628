/// The time every `/regex/` match of one pipeline creation may take together, so a hostile `.gitlab-ci.yml` cannot
/// pin a server thread with a pattern that backtracks (GitLab's RE2 never does; our ICU engine can).
///
/// A deadline, fixed when evaluation starts: cheap to copy, and spent by every match, so a thousand slow matches
/// cost no more than one.
public struct CIMatchBudget: Sendable {
    /// How long matching may take per pipeline.
    public static let perPipeline: Duration = .seconds(1)

    /// When matching stops.
    public let deadline: ContinuousClock.Instant

    /// A budget of `duration` from now.
    public init(duration: Duration = CIMatchBudget.perPipeline) {
        deadline = ContinuousClock.now.advanced(by: duration)
    }

    /// The error a match past the deadline ends pipeline creation with.
    func exceeded(_ pattern: CIPattern) -> CIConfigError {
        CIConfigError(
            "Failed to parse rule: matching /\(pattern.source)/\(pattern.flags) took too long (over \(Self.perPipeline) for the whole pipeline); "
                + "simplify the regular expression")
    }
}
