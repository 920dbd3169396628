/// A parsed `.gitlab-ci.yml`: what a pipeline for it is made of.
public struct PipelineDefinition: Codable, Sendable, Equatable {
    /// Stages in order, with `.pre` first and `.post` last as GitLab adds them.
    public var stages: [String]
    /// The global `variables:`.
    public var variables: [CIVariable]
    /// Visible jobs in file order; hidden (`.name`) jobs are left out.
    public var jobs: [JobDefinition]
    /// `workflow:name`, with variables expanded; nil when not given.
    public var name: String?

    /// A definition from its parts; `stages` should already include `.pre` and `.post`.
    public init(stages: [String], variables: [CIVariable], jobs: [JobDefinition], name: String? = nil) {
        self.stages = stages
        self.variables = variables
        self.jobs = jobs
        self.name = name
    }

    /// The position of `stage` in `stages`, which progression orders jobs by.
    public func stageIndex(of stage: String) -> Int? {
        stages.firstIndex(of: stage)
    }
}
