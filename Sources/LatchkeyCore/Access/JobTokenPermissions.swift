import Foundation

/// A resource a job's `permissions:` grants its token, grouped as the allowlist's fine-grained permissions group the job-token
/// routes of GitLab's access table.
public enum JobTokenResource: String, Sendable, Codable, CaseIterable, Comparable {
    /// Clone and fetch, repository files, branches, tags (read); push with the job token (write).
    case repository
    /// Job artifacts (read).
    case jobs
    /// Pipelines (read); the trigger API (write).
    case pipelines
    case packages
    case releases
    /// Registry `pull` (read) and `push` (write).
    case containerRegistry = "container_registry"
    /// Environments and their deployments (GitHub Actions' name for the same thing).
    case deployments
    /// Secure files: download (read), upload and delete (write).
    case secureFiles = "secure_files"

    /// The highest level that means something for the resource: nothing writes jobs with a job token.
    public var maximum: JobTokenAccess { self == .jobs ? .read : .write }

    public static func < (lhs: Self, rhs: Self) -> Bool { allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)! }
}

/// How much of a resource a job token may use; `write` includes `read`.
public enum JobTokenAccess: String, Sendable, Codable, CaseIterable, Comparable {
    case none, read, write

    public static func < (lhs: Self, rhs: Self) -> Bool { allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)! }
}

/// One thing a job token may need: a resource at a level (`packages: write`).
public struct JobTokenPermission: Sendable, Hashable, CustomStringConvertible {
    public var resource: JobTokenResource
    public var access: JobTokenAccess

    public init(_ resource: JobTokenResource, _ access: JobTokenAccess) {
        self.resource = resource
        self.access = access
    }

    public var description: String { "\(resource.rawValue): \(access.rawValue)" }
}

/// What a job token may use, resource by resource; a resource not named is `none` (GitHub Actions' rule for `permissions:`).
public struct JobTokenPermissions: Sendable, Equatable, Codable, CustomStringConvertible {
    private var levels: [JobTokenResource: JobTokenAccess]

    public init(_ levels: [JobTokenResource: JobTokenAccess] = [:]) {
        self.levels = levels.filter { $0.value != .none }.mapValues { $0 }
        for (resource, access) in self.levels where access > resource.maximum { self.levels[resource] = resource.maximum }
    }

    /// Every resource at its highest level: what a token without any `permissions:` or ceiling may use.
    public static let all = JobTokenPermissions(Dictionary(uniqueKeysWithValues: JobTokenResource.allCases.map { ($0, $0.maximum) }))
    /// Every resource readable, nothing writable (`read-all`).
    public static let readOnly = JobTokenPermissions(Dictionary(uniqueKeysWithValues: JobTokenResource.allCases.map { ($0, JobTokenAccess.read) }))
    /// Nothing at all (`permissions: {}`); not named `none`, which beside an optional would read as nil.
    public static let nothing = JobTokenPermissions()

    public subscript(resource: JobTokenResource) -> JobTokenAccess { levels[resource] ?? .none }

    public func allows(_ permission: JobTokenPermission) -> Bool { self[permission.resource] >= permission.access }

    /// Each resource at the lower of the two levels.
    public func intersection(_ other: JobTokenPermissions) -> JobTokenPermissions {
        JobTokenPermissions(Dictionary(uniqueKeysWithValues: JobTokenResource.allCases.map { ($0, min(self[$0], other[$0])) }))
    }

    /// `repository: read, packages: write`, in the resources' order; `none` when nothing is granted.
    public var description: String {
        let granted = JobTokenResource.allCases.filter { self[$0] != .none }.map { JobTokenPermission($0, self[$0]).description }
        return granted.isEmpty ? "none" : granted.joined(separator: ", ")
    }

    /// The levels by resource name, for JSON (`{"packages": "write"}`); resources at `none` are left out.
    public var byName: [String: String] {
        Dictionary(uniqueKeysWithValues: levels.map { ($0.key.rawValue, $0.value.rawValue) })
    }

    public init(from decoder: any Decoder) throws {
        let names = try decoder.singleValueContainer().decode([String: String].self)
        switch Self.parse(names.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }) {
        case .success(let permissions): self = permissions
        case .failure(let error): throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(byName)
    }
}

/// Why a `permissions:` mapping (or a ceiling setting) was refused.
public enum JobTokenPermissionsError: Error, Sendable, Equatable {
    case unknownResource(String)
    case unknownLevel(resource: String, level: String)
    /// `jobs: write`: a level the resource does not have.
    case levelNotAvailable(resource: JobTokenResource, level: JobTokenAccess)

    /// What follows the key's location in a message (`… unknown keys: deploy`, GitLab's wording).
    public var message: String {
        switch self {
        case .unknownResource(let name):
            "config contains unknown keys: \(name) (known: \(JobTokenResource.allCases.map(\.rawValue).joined(separator: ", ")))"
        case .unknownLevel(let resource, let level):
            "\(resource) config should be one of: none, read, write (got \(level.prefix(40)))"
        case .levelNotAvailable(let resource, _):
            "\(resource.rawValue) config should be one of: none, \(resource.maximum.rawValue)"
        }
    }
}

extension JobTokenPermissions {
    /// Most entries a mapping may have: each resource once, with room for a clear error instead of a slow one.
    public static let maxEntries = 64

    /// The permissions a mapping of resource names to levels names; the first problem otherwise.
    public static func parse(_ entries: [(String, String)]) -> Result<JobTokenPermissions, JobTokenPermissionsError> {
        var levels: [JobTokenResource: JobTokenAccess] = [:]
        for (name, level) in entries.prefix(maxEntries) {
            guard let resource = JobTokenResource(rawValue: name) else { return .failure(.unknownResource(String(name.prefix(64)))) }
            guard let access = JobTokenAccess(rawValue: level) else { return .failure(.unknownLevel(resource: name, level: level)) }
            guard access <= resource.maximum else { return .failure(.levelNotAvailable(resource: resource, level: access)) }
            levels[resource] = access
        }
        return .success(JobTokenPermissions(levels))
    }

    /// The compact text form settings take: `read-all`, `write-all`, `none`, or `repository: read, packages: write` (commas or
    /// new lines between entries).
    public static func parse(text: String) -> Result<JobTokenPermissions, JobTokenPermissionsError> {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        switch trimmed {
        case "read-all": return .success(.readOnly)
        case "write-all": return .success(.all)
        case "none", "{}": return .success(.nothing)
        default: break
        }
        var entries: [(String, String)] = []
        for item in trimmed.split(whereSeparator: { $0 == "," || $0 == "\n" }) {
            let parts = item.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            let name = parts[0].trimmingCharacters(in: .whitespaces)
            guard parts.count == 2 else { return .failure(.unknownLevel(resource: name, level: "")) }
            entries.append((name, parts[1].trimmingCharacters(in: .whitespaces)))
            if entries.count > maxEntries { break }
        }
        return parse(entries)
    }
}

/// Where a limit on a job token's permissions comes from.
public enum JobTokenPermissionLimit: String, Sendable, Equatable, CaseIterable {
    /// The job's own `permissions:` in `.gitlab-ci.yml`.
    case job
    /// The job's project's ceiling (Settings > CI/CD > Token Access, `ci_job_token_permissions_ceiling`).
    case project
    /// The instance's ceiling (`/application/settings`).
    case instance

    /// Names the limit in a refusal.
    public var title: String {
        switch self {
        case .job: "the job's permissions: in .gitlab-ci.yml"
        case .project: "the project's job token permissions ceiling"
        case .instance: "the instance's job token permissions ceiling"
        }
    }
}

/// What the policy needs to know about a job token's own permissions: what the job declared and the two ceilings over it.
public struct JobTokenPermissionFacts: Sendable, Equatable {
    /// The job's `permissions:` (from the job or `default:`); nil when it declared none.
    public var declared: JobTokenPermissions?
    /// The job's project's ceiling; nil when the project sets none.
    public var projectCeiling: JobTokenPermissions?
    /// The instance's ceiling; nil when the instance sets none.
    public var instanceCeiling: JobTokenPermissions?

    public init(declared: JobTokenPermissions?, projectCeiling: JobTokenPermissions? = nil, instanceCeiling: JobTokenPermissions? = nil) {
        self.declared = declared
        self.projectCeiling = projectCeiling
        self.instanceCeiling = instanceCeiling
    }

    /// Whether anything narrows the token at all.
    public var isRestricted: Bool { declared != nil || projectCeiling != nil || instanceCeiling != nil }

    /// What the token may use: the declaration (everything when there is none) within both ceilings, which YAML cannot raise.
    public var effective: JobTokenPermissions {
        (declared ?? .all).intersection(projectCeiling ?? .all).intersection(instanceCeiling ?? .all)
    }

    /// The limit that refuses `needed`, nil when the token may use it: the job's own declaration first (it asked for less), then the
    /// project's ceiling, then the instance's.
    public func refusal(of needed: JobTokenPermission) -> JobTokenPermissionLimit? {
        if let declared, !declared.allows(needed) { return .job }
        if let projectCeiling, !projectCeiling.allows(needed) { return .project }
        if let instanceCeiling, !instanceCeiling.allows(needed) { return .instance }
        return nil
    }

    /// The resources the declaration asked for above a ceiling, with what the token gets instead and which ceiling lowered it.
    public var clamped: [(asked: JobTokenPermission, granted: JobTokenAccess, by: JobTokenPermissionLimit)] {
        guard let declared else { return [] }
        var result: [(asked: JobTokenPermission, granted: JobTokenAccess, by: JobTokenPermissionLimit)] = []
        for resource in JobTokenResource.allCases where declared[resource] > effective[resource] {
            // The tighter ceiling is the one that lowered it (the project's when both agree).
            let by: JobTokenPermissionLimit = projectCeiling?[resource] == effective[resource] ? .project : .instance
            result.append((JobTokenPermission(resource, declared[resource]), effective[resource], by))
        }
        return result
    }
}

extension ProjectAbility {
    /// What a job token's permissions must include for the ability; nil for what every job token may do (its project's metadata).
    public var jobTokenPermission: JobTokenPermission? {
        switch self {
        case .downloadCode: JobTokenPermission(.repository, .read)
        case .pushCode: JobTokenPermission(.repository, .write)
        case .readJob, .readJobArtifacts: JobTokenPermission(.jobs, .read)
        case .readPipeline: JobTokenPermission(.pipelines, .read)
        case .createPipeline, .updatePipeline: JobTokenPermission(.pipelines, .write)
        case .readPackage: JobTokenPermission(.packages, .read)
        case .createPackage: JobTokenPermission(.packages, .write)
        case .readRelease: JobTokenPermission(.releases, .read)
        case .createRelease, .updateRelease, .destroyRelease: JobTokenPermission(.releases, .write)
        case .readContainerImage: JobTokenPermission(.containerRegistry, .read)
        case .createContainerImage: JobTokenPermission(.containerRegistry, .write)
        case .readEnvironment, .readDeployment: JobTokenPermission(.deployments, .read)
        case .adminEnvironment, .createDeployment, .destroyDeployment: JobTokenPermission(.deployments, .write)
        case .readSecureFiles: JobTokenPermission(.secureFiles, .read)
        case .adminSecureFiles: JobTokenPermission(.secureFiles, .write)
        default: nil
        }
    }
}
