/// A running job using its CI/CD job token: it acts as the user who caused it, from its own project.
public struct JobActor: Sendable {
    public var job: Job
    /// The job's own project (the source of every cross-project request).
    public var project: Project
    /// The user the job acts as.
    public var user: User

    public init(job: Job, project: Project, user: User) {
        self.job = job
        self.project = project
        self.user = user
    }
}

/// The fine-grained permissions an allowlist entry can grant (GitLab's `job_token_policies`).
public enum JobTokenPolicy: String, Codable, Sendable, CaseIterable {
    case readDeployments = "read_deployments"
    case adminDeployments = "admin_deployments"
    case readEnvironments = "read_environments"
    case adminEnvironments = "admin_environments"
    case readJobs = "read_jobs"
    case adminJobs = "admin_jobs"
    case readPackages = "read_packages"
    case adminPackages = "admin_packages"
    case readPipelines = "read_pipelines"
    case adminPipelines = "admin_pipelines"
    case readReleases = "read_releases"
    case adminReleases = "admin_releases"
    case readRepositories = "read_repositories"
    case readSecureFiles = "read_secure_files"
    case adminSecureFiles = "admin_secure_files"
    case readTerraformState = "read_terraform_state"
    case adminTerraformState = "admin_terraform_state"
    /// Registry reads (`pull`); GitLab's name, deprecated there, kept because nothing else expresses registry reads.
    case readContainers = "read_containers"

    /// A write policy implies its read twin, as in GitLab.
    public var implied: Set<JobTokenPolicy> {
        switch self {
        case .adminDeployments: [.readDeployments]
        case .adminEnvironments: [.readEnvironments]
        case .adminJobs: [.readJobs]
        case .adminPackages: [.readPackages]
        case .adminPipelines: [.readPipelines]
        case .adminReleases: [.readReleases]
        case .adminSecureFiles: [.readSecureFiles]
        case .adminTerraformState: [.readTerraformState]
        default: []
        }
    }
}

extension ProjectAbility {
    /// Whether a job token may ever be used for this ability (GitLab's fixed set of job-token routes).
    public var isJobTokenAbility: Bool { jobTokenPolicy != nil || self == .readProject || self == .readContainerImage || self == .createContainerImage || self == .pushCode }

    /// The fine-grained policy an allowlist entry must grant for this ability; nil when the ability needs none or is not a job-token ability.
    public var jobTokenPolicy: JobTokenPolicy? {
        switch self {
        case .downloadCode: .readRepositories
        case .readJob, .readJobArtifacts: .readJobs
        case .readPipeline: .readPipelines
        case .createPipeline, .updatePipeline: .adminPipelines
        case .readPackage: .readPackages
        case .createPackage: .adminPackages
        case .readRelease: .readReleases
        case .createRelease, .updateRelease, .destroyRelease: .adminReleases
        case .readContainerImage: .readContainers
        case .readEnvironment: .readEnvironments
        case .adminEnvironment: .adminEnvironments
        case .readDeployment: .readDeployments
        case .createDeployment, .destroyDeployment: .adminDeployments
        case .readSecureFiles: .readSecureFiles
        case .adminSecureFiles: .adminSecureFiles
        default: nil
        }
    }
}

/// One entry of a project's inbound allowlist, as it applies to a job's project.
public struct AllowlistGrant: Sendable, Equatable {
    /// True: every job-token ability; false: only `policies`.
    public var defaultPermissions: Bool
    public var policies: Set<JobTokenPolicy>

    public init(defaultPermissions: Bool = true, policies: Set<JobTokenPolicy> = []) {
        self.defaultPermissions = defaultPermissions
        self.policies = policies
    }

    public func admits(_ policy: JobTokenPolicy?) -> Bool {
        guard let policy, !defaultPermissions else { return true }
        return policies.contains(policy) || policies.contains { $0.implied.contains(policy) }
    }
}

/// What the policy needs to know about a job token's reach into a target project.
public struct JobTokenScopeFacts: Sendable, Equatable {
    /// "Limit access to this project" on the target (or enforced for the whole instance).
    public var inboundEnabled: Bool
    /// The target's allowlist entry that admits the job's project (directly or through one of its groups), if any.
    public var grant: AllowlistGrant?
    /// False when the job's project limits its own token ("Limit access from this project") and the target is not in its outbound list.
    public var outboundAllows: Bool

    public init(inboundEnabled: Bool, grant: AllowlistGrant?, outboundAllows: Bool = true) {
        self.inboundEnabled = inboundEnabled
        self.grant = grant
        self.outboundAllows = outboundAllows
    }
}
