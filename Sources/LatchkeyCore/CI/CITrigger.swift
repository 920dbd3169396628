/// `trigger:` of a bridge job: the downstream pipeline it starts, another project's (multi-project) or this commit's
/// own with other files (a child pipeline).
public struct CITrigger: Codable, Sendable, Equatable {
    /// Where the downstream pipeline runs.
    public enum Target: Codable, Sendable, Equatable {
        /// Another project's pipeline on `branch` (nil: its default branch), the path and branch with variables expanded.
        case project(path: String, branch: String?)
        /// A child pipeline of the same commit whose configuration is `include:` of these locations, as YAML.
        case child(configuration: String)
    }

    public var target: Target
    /// `strategy: depend`: the bridge ends as its downstream pipeline ends (otherwise once that pipeline exists).
    public var dependsOnDownstream: Bool
    /// `forward:yaml_variables` (default true): the bridge's YAML variables become the downstream pipeline's variables.
    public var forwardsYAMLVariables: Bool
    /// `forward:pipeline_variables` (default false): this pipeline's own variables (API, trigger, schedule) go along too.
    public var forwardsPipelineVariables: Bool

    /// A trigger with GitLab's defaults for what is not given.
    public init(target: Target, dependsOnDownstream: Bool = false, forwardsYAMLVariables: Bool = true, forwardsPipelineVariables: Bool = false) {
        self.target = target
        self.dependsOnDownstream = dependsOnDownstream
        self.forwardsYAMLVariables = forwardsYAMLVariables
        self.forwardsPipelineVariables = forwardsPipelineVariables
    }

    /// Whether the downstream pipeline is the same project's (parent-child).
    public var isChild: Bool {
        if case .child = target { return true }
        return false
    }
}

extension CITrigger {
    /// The variables the downstream pipeline is made with (GitLab's `Downstream::Generator`): the bridge's YAML variables, then
    /// this pipeline's own when forwarded. Values are expanded with the predefined, YAML and pipeline variables only; a reference
    /// to anything else (a project's CI/CD variable, perhaps a secret) stays as written for the downstream job to expand with its
    /// own project's variables. GitLab expands project variables here, which copies secrets into another project's pipeline
    /// variables; here security wins.
    public func downstreamVariables(yaml: [CIVariable], pipeline: [CIVariable], predefined: [String: String]) -> [CIVariable] {
        var scope = predefined
        for variable in pipeline { scope[variable.key] = variable.value }
        var result: [CIVariable] = []
        if forwardsYAMLVariables {
            for variable in yaml {
                var forwarded = variable
                if !variable.raw { forwarded.value = CIVariableExpansion.expand(variable.value, scope, keepingUnknown: true) }
                forwarded.raw = false
                scope[variable.key] = forwarded.value
                result.removeAll { $0.key == variable.key }
                result.append(CIVariable(key: forwarded.key, value: forwarded.value))
            }
        }
        if forwardsPipelineVariables {
            for variable in pipeline {
                result.removeAll { $0.key == variable.key }
                result.append(variable)
            }
        }
        return result
    }
}

/// Why a bridge failed to start its downstream pipeline: GitLab's failure reasons for `Ci::Bridge`.
public enum BridgeFailure: String, Sendable, CaseIterable {
    case projectNotFound = "downstream_bridge_project_not_found"
    case invalidTrigger = "invalid_bridge_trigger"
    case insufficientPermissions = "insufficient_bridge_permissions"
    case maximumDepth = "reached_max_descendant_pipelines_depth"
    case hierarchyTooLarge = "reached_max_pipeline_hierarchy_size"
    case loop = "pipeline_loop_detected"
    case creationFailed = "downstream_pipeline_creation_failed"

    /// GitLab's sentence for the reason (`Ci::Build`'s `failure_reason` presenter).
    public var message: String {
        switch self {
        case .projectNotFound: "The downstream project could not be found"
        case .invalidTrigger: "The downstream pipeline trigger definition is invalid"
        case .insufficientPermissions: "No permissions to trigger downstream pipeline"
        case .maximumDepth: "You reached the maximum depth of child pipelines"
        case .hierarchyTooLarge: "The downstream pipeline tree is too large"
        case .loop: "This job could not be executed because it would create infinitely looping pipelines"
        case .creationFailed: "The downstream pipeline could not be created"
        }
    }
}

/// GitLab's limits on a pipeline tree (`CreateDownstreamPipelineService`).
public enum PipelineHierarchy {
    /// A child pipeline may itself start one more level of children (parent → child → grandchild), no deeper.
    public static let maximumNestedChildren = 2
    /// Pipelines in one tree across every project (GitLab's default `pipeline_hierarchy_size`); `CIPipelineLimits` may lower it.
    public static let maximumSize = 1000
    /// A multi-project chain may pass through the same project, ref and source twice, not a third time.
    public static let maximumRepeats = 2

    /// One pipeline of a chain, as the checks below see it.
    public struct Link: Sendable, Equatable {
        public var projectID: Int64
        public var ref: String
        public var source: PipelineSource

        public init(projectID: Int64, ref: String, source: PipelineSource) {
            self.projectID = projectID
            self.ref = ref
            self.source = source
        }
    }

    /// What stops a bridge before permissions are asked (GitLab's order): a multi-project trigger of its own project, a child
    /// too deep, a tree too large. `chain` is the bridge's pipeline and those upstream of it, nearest first.
    public static func structuralRefusal(
        isChild: Bool, sameProject: Bool, chain: [Link], hierarchySize: Int, maximumSize: Int = maximumSize
    ) -> BridgeFailure? {
        if sameProject && !isChild { return .invalidTrigger }
        if isChild {
            // The bridge's pipeline and its ancestors in the same project (a chain of child pipelines).
            let ancestors = 1 + chain.prefix { $0.source == .parentPipeline }.count
            if ancestors > maximumNestedChildren { return .maximumDepth }
        }
        if hierarchySize >= maximumSize { return .hierarchyTooLarge }
        return nil
    }

    /// A multi-project chain that passed through one project, ref and source more than twice loops (GitLab allows one cycle
    /// and refuses the second: A → B → A → B → A). Child pipelines take no part.
    public static func isLoop(isChild: Bool, chain: [Link]) -> Bool {
        guard !isChild else { return false }
        var seen: [String: Int] = [:]
        for link in chain where link.source != .parentPipeline {
            let key = "\(link.projectID)\u{0}\(link.ref)\u{0}\(link.source.rawValue)"
            seen[key, default: 0] += 1
            if seen[key, default: 0] > maximumRepeats { return true }
        }
        return false
    }

    /// The status a `strategy: depend` bridge takes from its downstream pipeline once that has ended; nil while it runs.
    public static func bridgeStatus(mirroring downstream: PipelineStatus) -> JobStatus? {
        switch downstream {
        case .success: .success
        case .canceled: .canceled
        case .failed, .skipped: .failed
        default: nil
        }
    }
}
