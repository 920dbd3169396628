/// An `image:` or one entry of `services:`, as GitLab's `Entry::Image` / `Entry::Service` keep it.
public struct CIImage: Codable, Sendable, Equatable {
    public var name: String
    /// Replaces the image's entrypoint; nil keeps the image's own.
    public var entrypoint: [String]?
    /// `pull_policy`: `always`, `never`, `if-not-present`, in the order given; nil lets the runner decide.
    public var pullPolicy: [String]?
    /// `docker: platform` / `docker: user` (gitlab-runner's `executor_opts`).
    public var dockerPlatform: String?
    public var dockerUser: String?
    /// `kubernetes: user`.
    public var kubernetesUser: String?
    /// Services only: the host name(s) the job reaches it by (comma or space separated, as gitlab-runner splits them).
    public var alias: String?
    /// Services only: replaces the image's command.
    public var command: [String]?
    /// Services only: `variables:` of the service container.
    public var variables: [CIVariable]?

    /// An image known by name only.
    public init(name: String) {
        self.name = name
    }

    /// Decodes stored JSON; older definitions stored the image as its bare name.
    public init(from decoder: any Decoder) throws {
        if let name = try? decoder.singleValueContainer().decode(String.self) {
            self.init(name: name)
            return
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(name: try container.decode(String.self, forKey: .name))
        entrypoint = try container.decodeIfPresent([String].self, forKey: .entrypoint)
        pullPolicy = try container.decodeIfPresent([String].self, forKey: .pullPolicy)
        dockerPlatform = try container.decodeIfPresent(String.self, forKey: .dockerPlatform)
        dockerUser = try container.decodeIfPresent(String.self, forKey: .dockerUser)
        kubernetesUser = try container.decodeIfPresent(String.self, forKey: .kubernetesUser)
        alias = try container.decodeIfPresent(String.self, forKey: .alias)
        command = try container.decodeIfPresent([String].self, forKey: .command)
        variables = try container.decodeIfPresent([CIVariable].self, forKey: .variables)
    }
}

/// One entry of `cache:` once its key is known.
public struct CICache: Codable, Sendable, Equatable {
    /// The key as GitLab computes it at pipeline creation: the string given (variables are expanded by the runner),
    /// or for `key: files:` the prefix and a digest of the files' last commits; `default` when none is given.
    public var key: String
    public var paths: [String]
    public var untracked: Bool
    /// `pull-push` (default), `pull`, `push`, or a `$VARIABLE` the runner expands.
    public var policy: String
    /// `on_success` (default), `on_failure` or `always`.
    public var when: String
    public var fallbackKeys: [String]
    /// `unprotect: true`: protected and unprotected refs share this cache.
    public var unprotect: Bool

    /// A cache entry with GitLab's defaults.
    public init(
        key: String = "default", paths: [String] = [], untracked: Bool = false, policy: String = "pull-push", when: String = "on_success",
        fallbackKeys: [String] = [], unprotect: Bool = false
    ) {
        self.key = key
        self.paths = paths
        self.untracked = untracked
        self.policy = policy
        self.when = when
        self.fallbackKeys = fallbackKeys
        self.unprotect = unprotect
    }
}

/// `hooks:`: scripts gitlab-runner runs around fetching the sources.
public struct CIHooks: Codable, Sendable, Equatable {
    /// `pre_get_sources_script`, the one hook GitLab's `Entry::Hooks` allows.
    public var preGetSourcesScript: [String]

    /// Hooks with the script given.
    public init(preGetSourcesScript: [String]) {
        self.preGetSourcesScript = preGetSourcesScript
    }
}
