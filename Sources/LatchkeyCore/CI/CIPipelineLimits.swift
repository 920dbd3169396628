/// How large one pipeline and its tree may grow: GitLab's `ci_pipeline_size`, `ci_needs_size_limit` and
/// `pipeline_hierarchy_size` plan limits.
///
/// GitLab leaves the pipeline size unlimited on a self-managed instance; here it is bounded by default, since
/// `parallel: 200` on a few thousand one-line jobs would otherwise make millions of jobs from a 100 KB file, enough
/// memory to bring the server down before any job is stored.
public struct CIPipelineLimits: Sendable, Equatable {
    /// Jobs one pipeline may hold once `parallel:` is expanded and rules have chosen.
    public var maximumJobs: Int
    /// Jobs one job may list in `needs:` once parallel jobs are expanded to their instances (GitLab's default, 50).
    public var maximumNeeds: Int
    /// Pipelines one tree of child and multi-project pipelines may hold (GitLab's default, 1,000).
    public var maximumHierarchySize: Int

    /// Jobs a file may expand to before rules choose: rules may drop many, but the expansion itself must stay bounded.
    public var maximumExpandedJobs: Int { max(maximumJobs, 50_000) }
    /// `needs:` and `dependencies:` entries over all jobs once expanded (a job depending on every instance of many
    /// parallel jobs is quadratic in the file's size).
    public var maximumRelations: Int { max(maximumJobs * maximumNeeds, 200_000) }

    public static let `default` = CIPipelineLimits(maximumJobs: 10_000, maximumNeeds: 50)

    public init(maximumJobs: Int, maximumNeeds: Int, maximumHierarchySize: Int = PipelineHierarchy.maximumSize) {
        self.maximumJobs = max(1, maximumJobs)
        self.maximumNeeds = max(1, maximumNeeds)
        self.maximumHierarchySize = max(1, maximumHierarchySize)
    }

    /// GitLab's message when a pipeline has more jobs than `maximumJobs`.
    var tooManyJobs: CIConfigError {
        CIConfigError(
            "The number of jobs has exceeded the limit of \(maximumJobs). Try splitting the configuration with parent-child-pipelines "
                + "https://docs.gitlab.com/ee/ci/debugging.html#pipeline-with-many-jobs-fails-to-start")
    }

    /// GitLab's message when one job needs more than `maximumNeeds` others.
    func tooManyNeeds(job: String, listed: Int) -> CIConfigError {
        CIConfigError("\(job): one job can only need \(maximumNeeds) others, but you have listed \(listed). See needs keyword documentation for more details")
    }
}
