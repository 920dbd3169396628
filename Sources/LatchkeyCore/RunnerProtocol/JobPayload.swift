/// The job a runner receives from `POST /api/v4/jobs/request` (GitLab's runner protocol; snake_case on the wire).
public struct JobPayload: Codable, Sendable, Equatable {
    public var id: Int64
    /// The job token (`CI_JOB_TOKEN`).
    public var token: String
    public var allowGitFetch: Bool
    public var jobInfo: JobInfo
    public var gitInfo: GitInfo
    public var runnerInfo: RunnerInfo
    public var variables: [JobVariable]
    public var steps: [Step]
    public var artifacts: [ArtifactSpec]
    public var dependencies: [Dependency]
    public var features: Features
    /// `image:`; nil when the job names none (gitlab-runner then uses its configured default image).
    public var image: Image?
    public var services: [Image]
    public var cache: [Cache]
    /// Registry credentials a container executor logs in with to pull the job's images.
    public var credentials: [Credentials]
    /// `hooks:`; left out when the job has none, as GitLab.
    public var hooks: [Hook]?

    public init(
        id: Int64, token: String, allowGitFetch: Bool = true, jobInfo: JobInfo, gitInfo: GitInfo, runnerInfo: RunnerInfo, variables: [JobVariable], steps: [Step],
        artifacts: [ArtifactSpec], dependencies: [Dependency], features: Features = Features(), image: Image? = nil, services: [Image] = [],
        cache: [Cache] = [], credentials: [Credentials] = [], hooks: [Hook]? = nil
    ) {
        self.image = image
        self.services = services
        self.cache = cache
        self.credentials = credentials
        self.hooks = hooks
        self.id = id
        self.token = token
        self.allowGitFetch = allowGitFetch
        self.jobInfo = jobInfo
        self.gitInfo = gitInfo
        self.runnerInfo = runnerInfo
        self.variables = variables
        self.steps = steps
        self.artifacts = artifacts
        self.dependencies = dependencies
        self.features = features
    }

    /// Decodes a payload; the container fields are optional on the wire (older servers leave them out).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(Int64.self, forKey: .id)
        token = try container.decode(String.self, forKey: .token)
        allowGitFetch = try container.decodeIfPresent(Bool.self, forKey: .allowGitFetch) ?? true
        jobInfo = try container.decode(JobInfo.self, forKey: .jobInfo)
        gitInfo = try container.decode(GitInfo.self, forKey: .gitInfo)
        runnerInfo = try container.decode(RunnerInfo.self, forKey: .runnerInfo)
        variables = try container.decodeIfPresent([JobVariable].self, forKey: .variables) ?? []
        steps = try container.decodeIfPresent([Step].self, forKey: .steps) ?? []
        artifacts = try container.decodeIfPresent([ArtifactSpec].self, forKey: .artifacts) ?? []
        dependencies = try container.decodeIfPresent([Dependency].self, forKey: .dependencies) ?? []
        features = try container.decodeIfPresent(Features.self, forKey: .features) ?? Features()
        image = try container.decodeIfPresent(Image.self, forKey: .image)
        services = try container.decodeIfPresent([Image].self, forKey: .services) ?? []
        cache = try container.decodeIfPresent([Cache].self, forKey: .cache) ?? []
        credentials = try container.decodeIfPresent([Credentials].self, forKey: .credentials) ?? []
        hooks = try container.decodeIfPresent([Hook].self, forKey: .hooks)
    }

    /// `image` or one of `services` (GitLab's `JobRequest::Image` / `JobRequest::Service`, gitlab-runner's `common.Image`).
    public struct Image: Codable, Sendable, Equatable {
        public var name: String
        public var entrypoint: [String]?
        /// Always empty: `ports` is refused in `.gitlab-ci.yml`, as GitLab.
        public var ports: [Port]
        public var executorOpts: ExecutorOptions
        public var pullPolicy: [String]?
        /// Services only.
        public var alias: String?
        public var command: [String]?
        public var variables: [ServiceVariable]?

        public init(
            name: String, entrypoint: [String]? = nil, executorOpts: ExecutorOptions = ExecutorOptions(), pullPolicy: [String]? = nil,
            alias: String? = nil, command: [String]? = nil, variables: [ServiceVariable]? = nil
        ) {
            self.name = name
            self.entrypoint = entrypoint
            self.ports = []
            self.executorOpts = executorOpts
            self.pullPolicy = pullPolicy
            self.alias = alias
            self.command = command
            self.variables = variables
        }

        public struct Port: Codable, Sendable, Equatable {
            public var number: Int
            public var `protocol`: String?
            public var name: String?
        }

        /// `docker:` / `kubernetes:` of the image; `{}` when neither is given.
        public struct ExecutorOptions: Codable, Sendable, Equatable {
            public var docker: Docker?
            public var kubernetes: Kubernetes?

            public init(docker: Docker? = nil, kubernetes: Kubernetes? = nil) {
                self.docker = docker
                self.kubernetes = kubernetes
            }

            public struct Docker: Codable, Sendable, Equatable {
                public var platform: String?
                public var user: String?

                public init(platform: String? = nil, user: String? = nil) {
                    self.platform = platform
                    self.user = user
                }
            }

            public struct Kubernetes: Codable, Sendable, Equatable {
                public var user: String?

                public init(user: String? = nil) { self.user = user }
            }
        }
    }

    /// A service container's variable.
    public struct ServiceVariable: Codable, Sendable, Equatable {
        public var key: String
        public var value: String

        public init(key: String, value: String) {
            self.key = key
            self.value = value
        }
    }

    /// One `cache:` entry (GitLab's `JobRequest::Cache`).
    public struct Cache: Codable, Sendable, Equatable {
        public var key: String
        public var untracked: Bool
        public var paths: [String]
        public var policy: String
        public var when: String
        public var fallbackKeys: [String]

        public init(key: String, untracked: Bool, paths: [String], policy: String, when: String, fallbackKeys: [String]) {
            self.key = key
            self.untracked = untracked
            self.paths = paths
            self.policy = policy
            self.when = when
            self.fallbackKeys = fallbackKeys
        }
    }

    /// Registry credentials (GitLab's `JobRequest::Credentials`): `type` is `registry`.
    public struct Credentials: Codable, Sendable, Equatable {
        public var type: String
        public var url: String
        public var username: String
        public var password: String

        public init(type: String = "registry", url: String, username: String, password: String) {
            self.type = type
            self.url = url
            self.username = username
            self.password = password
        }
    }

    /// A runtime hook (`pre_get_sources_script`).
    public struct Hook: Codable, Sendable, Equatable {
        public var name: String
        public var script: [String]

        public init(name: String, script: [String]) {
            self.name = name
            self.script = script
        }
    }

    public struct JobInfo: Codable, Sendable, Equatable {
        public var id: Int64
        public var name: String
        public var stage: String
        public var projectId: Int64
        public var projectName: String

        public init(id: Int64, name: String, stage: String, projectId: Int64, projectName: String) {
            self.id = id
            self.name = name
            self.stage = stage
            self.projectId = projectId
            self.projectName = projectName
        }
    }

    public struct GitInfo: Codable, Sendable, Equatable {
        /// `http://gitlab-ci-token:<token>@host/ns/project.git`.
        public var repoUrl: String
        public var ref: String
        public var sha: String
        public var beforeSha: String
        /// `branch` or `tag`.
        public var refType: String
        public var refspecs: [String]
        public var depth: Int

        public init(repoUrl: String, ref: String, sha: String, beforeSha: String, refType: String, refspecs: [String], depth: Int) {
            self.repoUrl = repoUrl
            self.ref = ref
            self.sha = sha
            self.beforeSha = beforeSha
            self.refType = refType
            self.refspecs = refspecs
            self.depth = depth
        }
    }

    public struct RunnerInfo: Codable, Sendable, Equatable {
        /// Seconds the job may run.
        public var timeout: Int

        public init(timeout: Int) { self.timeout = timeout }
    }

    public struct Step: Codable, Sendable, Equatable {
        /// `script` or `after_script`.
        public var name: String
        public var script: [String]
        public var timeout: Int
        /// `on_success` or `always`.
        public var when: String
        public var allowFailure: Bool

        public init(name: String, script: [String], timeout: Int, when: String, allowFailure: Bool) {
            self.name = name
            self.script = script
            self.timeout = timeout
            self.when = when
            self.allowFailure = allowFailure
        }
    }

    public struct ArtifactSpec: Codable, Sendable, Equatable {
        public var name: String
        public var untracked: Bool
        public var paths: [String]
        public var exclude: [String]
        /// `on_success`, `on_failure` or `always`.
        public var when: String
        public var artifactType: String
        public var artifactFormat: String
        public var expireIn: String?

        public init(name: String, untracked: Bool = false, paths: [String], exclude: [String] = [], when: String, artifactType: String = "archive",
                    artifactFormat: String = "zip", expireIn: String?) {
            self.name = name
            self.untracked = untracked
            self.paths = paths
            self.exclude = exclude
            self.when = when
            self.artifactType = artifactType
            self.artifactFormat = artifactFormat
            self.expireIn = expireIn
        }

        enum CodingKeys: String, CodingKey {
            case name, untracked, paths, exclude, when, artifactType, artifactFormat, expireIn
        }

        /// Decodes an entry; `untracked` and `exclude` are left out by GitLab when unset.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decodeIfPresent(String.self, forKey: .name) ?? "artifacts"
            untracked = try container.decodeIfPresent(Bool.self, forKey: .untracked) ?? false
            paths = try container.decodeIfPresent([String].self, forKey: .paths) ?? []
            exclude = try container.decodeIfPresent([String].self, forKey: .exclude) ?? []
            when = try container.decodeIfPresent(String.self, forKey: .when) ?? "on_success"
            artifactType = try container.decodeIfPresent(String.self, forKey: .artifactType) ?? "archive"
            artifactFormat = try container.decodeIfPresent(String.self, forKey: .artifactFormat) ?? "zip"
            expireIn = try container.decodeIfPresent(String.self, forKey: .expireIn)
        }

        /// Encodes as GitLab's presenter: `exclude` only when it lists something.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(untracked, forKey: .untracked)
            try container.encode(paths, forKey: .paths)
            if !exclude.isEmpty { try container.encode(exclude, forKey: .exclude) }
            try container.encode(when, forKey: .when)
            try container.encode(artifactType, forKey: .artifactType)
            try container.encode(artifactFormat, forKey: .artifactFormat)
            try container.encodeIfPresent(expireIn, forKey: .expireIn)
        }
    }

    public struct Dependency: Codable, Sendable, Equatable {
        public var id: Int64
        /// The receiving job's own token: artifacts are downloaded with it (GitLab sends the same).
        public var token: String
        public var name: String
        public var artifactsFile: ArtifactsFile?

        public init(id: Int64, token: String, name: String, artifactsFile: ArtifactsFile?) {
            self.id = id
            self.token = token
            self.name = name
            self.artifactsFile = artifactsFile
        }

        public struct ArtifactsFile: Codable, Sendable, Equatable {
            public var filename: String
            public var size: Int64

            public init(filename: String, size: Int64) {
                self.filename = filename
                self.size = size
            }
        }
    }

    public struct Features: Codable, Sendable, Equatable {
        public var traceSections: Bool
        public var tokenMaskPrefixes: [String]
        public var failureReasons: [String]

        public init(
            traceSections: Bool = true, tokenMaskPrefixes: [String] = ["glcbt-", "glpat-", "glrt-"],
            failureReasons: [String] = ["unknown_failure", "script_failure", "runner_system_failure", "job_execution_timeout", "stuck_or_timeout_failure"]
        ) {
            self.traceSections = traceSections
            self.tokenMaskPrefixes = tokenMaskPrefixes
            self.failureReasons = failureReasons
        }
    }
}

/// One variable handed to a job, with GitLab's flags.
public struct JobVariable: Codable, Sendable, Equatable {
    public var key: String
    public var value: String
    public var `public`: Bool
    public var masked: Bool
    public var file: Bool
    public var raw: Bool

    public init(key: String, value: String, public: Bool, masked: Bool = false, file: Bool = false, raw: Bool = false) {
        self.key = key
        self.value = value
        self.public = `public`
        self.masked = masked
        self.file = file
        self.raw = raw
    }
}

/// What a runner reports with `PUT /api/v4/jobs/:id`.
public struct JobUpdate: Codable, Sendable, Equatable {
    public var token: String
    /// `running`, `success` or `failed`.
    public var state: String
    public var failureReason: String?
    public var exitCode: Int?
    public var output: Output?

    public init(token: String, state: String, failureReason: String? = nil, exitCode: Int? = nil, output: Output? = nil) {
        self.token = token
        self.state = state
        self.failureReason = failureReason
        self.exitCode = exitCode
        self.output = output
    }

    public struct Output: Codable, Sendable, Equatable {
        /// `crc32:%08x` of the whole (masked) trace.
        public var checksum: String
        public var bytesize: Int

        public init(checksum: String, bytesize: Int) {
            self.checksum = checksum
            self.bytesize = bytesize
        }
    }
}

/// CRC-32 (IEEE), as the runner protocol's trace checksum uses.
public enum CRC32 {
    static let table: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index)
        for _ in 0..<8 { crc = crc & 1 == 1 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
        return crc
    }

    /// Continues a running CRC over `bytes` (start with 0).
    public static func update(_ crc: UInt32, _ bytes: some Sequence<UInt8>) -> UInt32 {
        var value = ~crc
        for byte in bytes { value = table[Int((value ^ UInt32(byte)) & 0xFF)] ^ (value >> 8) }
        return ~value
    }

    public static func checksum(_ bytes: some Sequence<UInt8>) -> String { format(update(0, bytes)) }

    /// `crc32:%08x`.
    public static func format(_ value: UInt32) -> String {
        let hex = String(value, radix: 16)
        return "crc32:" + String(repeating: "0", count: 8 - hex.count) + hex
    }
}
