import Foundation
import LatchkeyCore
import LatchkeyStore
import Logging

/// The long-lived things every controller needs, built once by `buildApplication`.
public struct ServerEnvironment: Sendable {
    public let settings: ServerSettings
    public let store: Store
    public let digester: TokenDigester
    public let repositories: RepositoryStore
    public let passwords: PasswordHasher
    public let traces: TraceStore
    public let artifacts: ArtifactStore
    public let logger: Logger
    /// Compiled masking rules of running jobs, reused by every trace request.
    let traceMaskingRules = TraceMaskingRules()
    /// Every access decision goes through it.
    let authorizer: Authorizer
    /// The keys of signed (JWT) job tokens, in the data directory.
    public let jobTokenKeys: JobTokenKeys
    /// The git processes each credential may run at once.
    let gitSlots: GitSlots

    public init(settings: ServerSettings, store: Store, digester: TokenDigester, repositories: RepositoryStore, passwords: PasswordHasher, logger: Logger) {
        self.traces = TraceStore(root: settings.tracesDirectory)
        self.artifacts = ArtifactStore(root: settings.artifactsDirectory)
        self.settings = settings
        self.store = store
        self.digester = digester
        self.repositories = repositories
        self.passwords = passwords
        self.logger = logger
        self.authorizer = Authorizer(store: store, traces: traces, logger: logger)
        self.jobTokenKeys = JobTokenKeys(directory: settings.dataDirectory)
        self.gitSlots = GitSlots(limit: settings.gitProcessesPerCredential, wait: settings.gitProcessWait)
    }
}

extension ServerEnvironment: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String { "ServerEnvironment(\(settings))" }
    public var debugDescription: String { description }
}
