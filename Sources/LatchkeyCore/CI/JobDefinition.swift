/// One job of `.gitlab-ci.yml`, with `default:` and `extends:` already applied.
public struct JobDefinition: Codable, Sendable, Equatable {
    public var name: String
    public var stage: String
    public var script: [String]
    public var beforeScript: [String]
    public var afterScript: [String]
    /// The job's own variables in file order; global ones are not merged in.
    public var variables: [CIVariable]
    public var artifacts: ArtifactsDefinition?
    /// Jobs whose artifacts this job downloads; nil means all jobs of earlier stages (GitLab's default).
    ///
    /// When the job has `needs:` and no `dependencies:`, this is the needed jobs with `artifacts: true`,
    /// because that is where GitLab then takes artifacts from.
    public var dependencies: [String]?
    /// Jobs this job waits for; nil means stage ordering, `[]` means it starts at once.
    public var needs: [String]?
    public var when: JobWhen
    public var allowFailure: Bool
    public var timeoutSeconds: Int?
    public var tags: [String]
    /// `image:` for container executors (gitlab-runner's docker executor); Latchkey's own runner refuses it with a trace line.
    public var image: CIImage?
    /// `services:` started beside the job by container executors.
    public var services: [CIImage] = []
    /// `cache:` entries with their keys computed.
    public var caches: [CICache] = []
    /// `hooks:`.
    public var hooks: CIHooks?
    public var interruptible: Bool
    /// `allow_failure: exit_codes`: a failure with one of these codes counts as allowed.
    public var allowFailureExitCodes: [Int]
    public var retry: JobRetry?
    public var resourceGroup: String?
    /// `coverage:` as written (`/regex/`), for reading coverage out of the trace.
    public var coverage: String?
    /// `id_tokens:`: OIDC ID tokens minted for the job when it is claimed.
    public var idTokens: [IDTokenDefinition] = []
    /// `permissions:`: what the job's token may use (within the ceilings); nil when the job declared none.
    public var permissions: JobTokenPermissions?
    /// `CI_NODE_INDEX` / `CI_NODE_TOTAL` of a `parallel:` instance.
    public var nodeIndex: Int?
    public var nodeTotal: Int?
    /// `start_in:` of a `when: delayed` job (from the job or the rule that chose it), in seconds.
    public var startInSeconds: Int?
    /// `environment:`, its name and URL expanded when the pipeline was made.
    public var environment: CIEnvironment?
    /// `inherit:variables`: the global variables this job receives; nil means all of them.
    public var inheritedGlobalVariables: [String]?
    /// `trigger:`: this job is a bridge that starts a downstream pipeline and never reaches a runner.
    public var trigger: CITrigger?

    /// Whether the job is a bridge (`trigger:`), run by the server rather than a runner.
    public var isBridge: Bool { trigger != nil }

    /// A job with GitLab's defaults for everything not given.
    public init(
        name: String,
        stage: String = "test",
        script: [String],
        beforeScript: [String] = [],
        afterScript: [String] = [],
        variables: [CIVariable] = [],
        artifacts: ArtifactsDefinition? = nil,
        dependencies: [String]? = nil,
        needs: [String]? = nil,
        when: JobWhen = .onSuccess,
        allowFailure: Bool = false,
        timeoutSeconds: Int? = nil,
        tags: [String] = [],
        image: CIImage? = nil,
        interruptible: Bool = false,
        allowFailureExitCodes: [Int] = [],
        retry: JobRetry? = nil,
        resourceGroup: String? = nil,
        coverage: String? = nil,
        nodeIndex: Int? = nil,
        nodeTotal: Int? = nil
    ) {
        self.name = name
        self.stage = stage
        self.script = script
        self.beforeScript = beforeScript
        self.afterScript = afterScript
        self.variables = variables
        self.artifacts = artifacts
        self.dependencies = dependencies
        self.needs = needs
        self.when = when
        self.allowFailure = allowFailure
        self.timeoutSeconds = timeoutSeconds
        self.tags = tags
        self.image = image
        self.interruptible = interruptible
        self.allowFailureExitCodes = allowFailureExitCodes
        self.retry = retry
        self.resourceGroup = resourceGroup
        self.coverage = coverage
        self.nodeIndex = nodeIndex
        self.nodeTotal = nodeTotal
    }

    /// Decodes stored JSON, filling fields added since it was written with their defaults.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        stage = try container.decodeIfPresent(String.self, forKey: .stage) ?? "test"
        script = try container.decodeIfPresent([String].self, forKey: .script) ?? []
        beforeScript = try container.decodeIfPresent([String].self, forKey: .beforeScript) ?? []
        afterScript = try container.decodeIfPresent([String].self, forKey: .afterScript) ?? []
        variables = try container.decodeIfPresent([CIVariable].self, forKey: .variables) ?? []
        artifacts = try container.decodeIfPresent(ArtifactsDefinition.self, forKey: .artifacts)
        dependencies = try container.decodeIfPresent([String].self, forKey: .dependencies)
        needs = try container.decodeIfPresent([String].self, forKey: .needs)
        when = try container.decodeIfPresent(JobWhen.self, forKey: .when) ?? .onSuccess
        allowFailure = try container.decodeIfPresent(Bool.self, forKey: .allowFailure) ?? false
        timeoutSeconds = try container.decodeIfPresent(Int.self, forKey: .timeoutSeconds)
        tags = try container.decodeIfPresent([String].self, forKey: .tags) ?? []
        image = try container.decodeIfPresent(CIImage.self, forKey: .image)
        services = try container.decodeIfPresent([CIImage].self, forKey: .services) ?? []
        caches = try container.decodeIfPresent([CICache].self, forKey: .caches) ?? []
        hooks = try container.decodeIfPresent(CIHooks.self, forKey: .hooks)
        interruptible = try container.decodeIfPresent(Bool.self, forKey: .interruptible) ?? false
        allowFailureExitCodes = try container.decodeIfPresent([Int].self, forKey: .allowFailureExitCodes) ?? []
        retry = try container.decodeIfPresent(JobRetry.self, forKey: .retry)
        resourceGroup = try container.decodeIfPresent(String.self, forKey: .resourceGroup)
        coverage = try container.decodeIfPresent(String.self, forKey: .coverage)
        nodeIndex = try container.decodeIfPresent(Int.self, forKey: .nodeIndex)
        nodeTotal = try container.decodeIfPresent(Int.self, forKey: .nodeTotal)
        inheritedGlobalVariables = try container.decodeIfPresent([String].self, forKey: .inheritedGlobalVariables)
        idTokens = try container.decodeIfPresent([IDTokenDefinition].self, forKey: .idTokens) ?? []
        permissions = try container.decodeIfPresent(JobTokenPermissions.self, forKey: .permissions)
        startInSeconds = try container.decodeIfPresent(Int.self, forKey: .startInSeconds)
        environment = try container.decodeIfPresent(CIEnvironment.self, forKey: .environment)
        trigger = try container.decodeIfPresent(CITrigger.self, forKey: .trigger)
    }
}
