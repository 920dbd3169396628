import LatchkeyCore
import Logging

/// Every repository over one database.
public struct Store: Sendable {
    public let database: Database
    public let users: UserRepository
    public let personalAccessTokens: PersonalAccessTokenRepository
    public let namespaces: NamespaceRepository
    public let projects: ProjectRepository
    public let members: MemberRepository
    public let pipelines: PipelineRepository
    public let jobs: JobRepository
    public let schedules: PipelineScheduleRepository
    public let settings: SettingsRepository
    public let runners: RunnerRepository
    public let variables: VariableRepository
    public let artifacts: ArtifactRepository
    public let jobTokenScope: JobTokenScopeRepository
    public let auditEvents: AuditEventRepository
    public let pipelineTriggers: PipelineTriggerRepository
    public let packages: PackageRepository
    public let releases: ReleaseRepository
    public let releaseLinks: ReleaseLinkRepository
    public let webSessions: WebSessionRepository
    public let authAttempts: AuthAttemptRepository
    public let protectedBranches: ProtectedBranchRepository
    public let protectedTags: ProtectedTagRepository
    public let environments: EnvironmentRepository
    public let secureFiles: SecureFileRepository
    public let resourceAccessTokens: ResourceAccessTokenRepository

    /// `sealer` seals variable values and instance secrets at rest (the server passes one keyed from its secret).
    public init(database: Database, sealer: SecretSealer? = nil) {
        self.database = database
        users = UserRepository(database: database)
        personalAccessTokens = PersonalAccessTokenRepository(database: database)
        resourceAccessTokens = ResourceAccessTokenRepository(database: database)
        namespaces = NamespaceRepository(database: database)
        projects = ProjectRepository(database: database)
        members = MemberRepository(database: database)
        pipelines = PipelineRepository(database: database)
        jobs = JobRepository(database: database)
        schedules = PipelineScheduleRepository(database: database)
        settings = SettingsRepository(database: database, sealer: sealer)
        runners = RunnerRepository(database: database)
        variables = VariableRepository(database: database, sealer: sealer)
        artifacts = ArtifactRepository(database: database)
        jobTokenScope = JobTokenScopeRepository(database: database)
        auditEvents = AuditEventRepository(database: database)
        pipelineTriggers = PipelineTriggerRepository(database: database)
        packages = PackageRepository(database: database)
        releases = ReleaseRepository(database: database)
        releaseLinks = ReleaseLinkRepository(database: database)
        webSessions = WebSessionRepository(database: database)
        authAttempts = AuthAttemptRepository(database: database)
        protectedBranches = ProtectedBranchRepository(database: database)
        protectedTags = ProtectedTagRepository(database: database)
        environments = EnvironmentRepository(database: database)
        secureFiles = SecureFileRepository(database: database, sealer: sealer)
    }
}
