/// What a pipeline is being created for: the facts `rules`, `only`/`except` and `workflow` are decided on.
public struct CIPipelineContext: Sendable, Equatable {
    public var source: PipelineSource
    /// The branch or tag name.
    public var ref: String
    public var isTag: Bool
    /// The project's full path, for `only: [branches@group/project]`.
    public var projectPath: String
    /// Predefined variables (`CI_PIPELINE_SOURCE`, `CI_COMMIT_BRANCH`, ...): YAML variables override them.
    public var predefined: [String: String]
    /// Project, trigger, schedule and API variables: they override YAML variables, as in GitLab.
    public var overrides: [String: String]
    /// Paths the push changed; nil when there is no push to compare (a new ref, or a pipeline not made by a push),
    /// in which case `changes` is true, as GitLab.
    public var changedPaths: [String]?
    /// How large the pipeline may grow.
    public var limits: CIPipelineLimits = .default

    /// A context; `predefined` should hold at least `CI_PIPELINE_SOURCE` and `CI_COMMIT_REF_NAME`.
    public init(
        source: PipelineSource = .push, ref: String = "main", isTag: Bool = false, projectPath: String = "",
        predefined: [String: String]? = nil, overrides: [String: String] = [:], changedPaths: [String]? = nil
    ) {
        self.source = source
        self.ref = ref
        self.isTag = isTag
        self.projectPath = projectPath
        self.predefined = predefined ?? Self.predefinedVariables(source: source, ref: ref, isTag: isTag, projectPath: projectPath)
        self.overrides = overrides
        self.changedPaths = changedPaths
    }

    /// The predefined variables GitLab sets before any job exists (those `workflow:rules` can see).
    public static func predefinedVariables(source: PipelineSource, ref: String, isTag: Bool, projectPath: String) -> [String: String] {
        var variables = [
            "CI": "true", "GITLAB_CI": "true", "CI_PIPELINE_SOURCE": source.rawValue, "CI_COMMIT_REF_NAME": ref,
            "CI_PROJECT_PATH": projectPath,
        ]
        if isTag { variables["CI_COMMIT_TAG"] = ref } else { variables["CI_COMMIT_BRANCH"] = ref }
        return variables
    }
}

/// The repository as the CI configuration sees it: files of the pipeline's commit, other projects' files read as
/// the pipeline's user, and path listings for `exists`. The server implements it over git and `AccessPolicy`.
public protocol CIRepositoryFiles: Sendable {
    /// A file of the pipeline's own commit, or nil if there is none.
    func localFile(_ path: String) async -> String?
    /// A file of another project at `ref` (nil: its default branch), read as the pipeline's user; throws GitLab's message.
    func projectFile(project: String, ref: String?, path: String) async throws(CIConfigError) -> String
    /// Every file path of the pipeline's commit.
    func paths() async -> [String]
    /// Paths that differ between `ref` and the pipeline's commit (`changes:compare_to`); nil if `ref` is unknown.
    func changedPaths(comparedTo ref: String) async -> [String]?
    /// The id of the last commit before or at the pipeline's commit that touched each path (`cache:key:files`);
    /// paths no commit touched are left out.
    func lastCommits(paths: [String]) async -> [String: String]
    /// A file of the parent pipeline's job `job`'s artifacts archive (`include:artifact`, child pipelines only); GitLab's messages.
    func artifactFile(job: String, path: String) async throws(CIConfigError) -> String
}

extension CIRepositoryFiles {
    /// Outside a child pipeline there is no parent whose artifacts could be read.
    public func artifactFile(job: String, path: String) async throws(CIConfigError) -> String {
        throw CIConfigError(CIIncludedFile.artifactOutsideChild)
    }

    /// Without a history to read, every `cache:key:files` key is `default`, as GitLab's for files it cannot find.
    public func lastCommits(paths: [String]) async -> [String: String] { [:] }
}

/// Expands `$NAME` and `${NAME}` with `variables`; unknown names become empty, as GitLab's `ExpandVariables`, or stay as
/// written with `keepingUnknown` (for a later expansion that knows more).
enum CIVariableExpansion {
    static func expand(_ text: String, _ variables: [String: String], keepingUnknown: Bool = false) -> String {
        guard text.contains("$") else { return text }
        var result = ""
        var characters = text[...]
        while let dollar = characters.firstIndex(of: "$") {
            result += characters[..<dollar]
            var rest = characters[characters.index(after: dollar)...]
            if rest.first == "{", let close = rest.firstIndex(of: "}") {
                let name = rest[rest.index(after: rest.startIndex)..<close]
                if !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
                    result += variables[String(name)] ?? (keepingUnknown ? "${\(name)}" : "")
                    characters = rest[rest.index(after: close)...]
                    continue
                }
            }
            let name = rest.prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
            if name.isEmpty {
                result += "$"
            } else {
                result += variables[String(name)] ?? (keepingUnknown ? "$\(name)" : "")
                rest = rest.dropFirst(name.count)
            }
            characters = rest
        }
        return result + characters
    }
}
