/// GitLab's `include:` (Config::External::Processor): each included file is merged in order, then the including
/// file is deep-merged over them. `local` and `project` are read through `CIRepositoryFiles`; `remote`,
/// `template` and `component` are refused because Latchkey has no network and no template library.
enum CIInclude {
    /// GitLab's `Context::DEFAULT_MAX_INCLUDES`.
    static let maxIncludes = 150
    /// A bound on nesting beyond `maxIncludes`, so a chain of includes always meets GitLab's count message first.
    static let maxNesting = 160

    /// Where relative `local:` paths of a file are read from.
    enum Origin: Equatable {
        case pipeline
        case project(String, ref: String?)
        /// An artifacts archive of the parent pipeline's job (a child pipeline's `include:artifact`).
        case artifact(job: String)
    }

    struct State {
        var count = 0
        var paths: [String]?
        /// One regex budget for every `include:rules` of the expansion, so 150 includes cannot take 150 budgets.
        var budget = CIMatchBudget()
        /// Every file read, in order (the lint API's `includes`).
        var included: [CIIncludedFile] = []
    }

    static func expand(
        _ root: YAMLMapping, files: (any CIRepositoryFiles)?, context: CIPipelineContext
    ) async throws(CIConfigError) -> YAMLMapping {
        var included: [CIIncludedFile] = []
        return try await expand(root, files: files, context: context, included: &included)
    }

    /// `expand`, also telling which files it read.
    static func expand(
        _ root: YAMLMapping, files: (any CIRepositoryFiles)?, context: CIPipelineContext, included: inout [CIIncludedFile]
    ) async throws(CIConfigError) -> YAMLMapping {
        var state = State()
        defer { included = state.included }
        return try await expand(root, origin: .pipeline, depth: 0, files: files, context: context, state: &state)
    }

    private static func expand(
        _ mapping: YAMLMapping, origin: Origin, depth: Int, files: (any CIRepositoryFiles)?, context: CIPipelineContext, state: inout State
    ) async throws(CIConfigError) -> YAMLMapping {
        guard let include = mapping.present("include") else {
            var plain = mapping
            plain["include"] = nil
            return plain
        }
        guard depth < maxNesting else { throw CIConfigError("Nested includes can't be more than \(maxNesting) levels deep!") }
        let items: [YAMLValue]
        switch include {
        case .sequence(let list): items = list
        case .string, .mapping: items = [include]
        default: throw CIConfigError("include config should be a hash, a string or an array")
        }
        var merged = YAMLMapping()
        for item in items {
            for location in try await locations(of: item, origin: origin, files: files, context: context, state: &state) {
                state.count += 1
                guard state.count <= maxIncludes else { throw CIConfigError("Maximum of \(maxIncludes) nested includes are allowed!") }
                let text = try await read(location, files: files)
                state.included.append(location.record)
                guard case .mapping(let included) = try YAMLLoader.load(text) else {
                    throw CIConfigError("Included file `\(location.path)` does not have valid YAML syntax!")
                }
                // What a file from an artifact includes locally comes from the pipeline's commit (GitLab's `expand_context_attrs`).
                let nested = if case .artifact = location.origin { Origin.pipeline } else { location.origin }
                let expanded = try await expand(included, origin: nested, depth: depth + 1, files: files, context: context, state: &state)
                merged = merged.deepMerged(with: expanded)
            }
        }
        var own = mapping
        own["include"] = nil
        return merged.deepMerged(with: own)
    }

    /// One file to read.
    struct Location {
        var origin: Origin
        var path: String

        var record: CIIncludedFile {
            switch origin {
            case .pipeline: CIIncludedFile(kind: .local, location: path)
            case .project(let project, let ref): CIIncludedFile(kind: .file, location: path, project: project, ref: ref)
            case .artifact(let job): CIIncludedFile(kind: .artifact, location: path, job: job)
            }
        }
    }

    private static func locations(
        of item: YAMLValue, origin: Origin, files: (any CIRepositoryFiles)?, context: CIPipelineContext, state: inout State
    ) async throws(CIConfigError) -> [Location] {
        switch item {
        case .string(let text):
            if text.hasPrefix("http://") || text.hasPrefix("https://") { throw remoteRefused(text) }
            return try await local(text, origin: origin, files: files, state: &state)
        case .mapping(let mapping):
            let accessors = ["local", "project", "remote", "template", "component", "artifact"].filter { mapping.has($0) }
            guard accessors.count == 1, let accessor = accessors.first else {
                throw CIConfigError("Include `\(json(mapping))` needs to match exactly one accessor!")
            }
            let unknown = mapping.keys.filter { !["local", "project", "ref", "file", "remote", "template", "component", "artifact", "job", "rules", "inputs", "integrity"].contains($0) }
            if !unknown.isEmpty { throw CIConfigError("include config contains unknown keys: \(unknown.joined(separator: ", "))") }
            if mapping.has("inputs") { throw CIConfigError("include:inputs is not supported by Latchkey") }
            if let rules = mapping.present("rules"), try await !includeRulesMatch(rules, files: files, context: context, state: &state) {
                return []
            }
            switch accessor {
            case "local":
                guard let path = mapping.present("local")?.stringValue else { throw CIConfigError("include:local should be a string") }
                return try await local(path, origin: origin, files: files, state: &state)
            case "project":
                guard let project = mapping.present("project")?.stringValue, !project.isEmpty else {
                    throw CIConfigError("include:project should be a string")
                }
                let ref = mapping.present("ref")?.scalarText
                guard let file = mapping.present("file") else { throw CIConfigError("include:file can't be blank") }
                guard let paths = file.strings ?? file.stringValue.map({ [$0] }), !paths.isEmpty else {
                    throw CIConfigError("include:file should be a string or an array of strings")
                }
                let expandedProject = CIVariableExpansion.expand(project, context.predefined.merging(context.overrides) { $1 })
                return try paths.map { path throws(CIConfigError) in
                    try checkExtension(path)
                    return Location(origin: .project(expandedProject, ref: ref), path: strip(path))
                }
            case "remote":
                throw remoteRefused(mapping.present("remote")?.stringValue ?? "")
            case "template":
                throw CIConfigError("include:template `\(mapping.present("template")?.stringValue ?? "")` is not supported by Latchkey: it ships no CI templates")
            case "component":
                throw CIConfigError("include:component is not supported by Latchkey")
            default:
                guard let path = mapping.present("artifact")?.stringValue, !path.isEmpty else { throw CIConfigError("include:artifact should be a string") }
                guard let job = mapping.present("job")?.stringValue, !job.isEmpty else {
                    throw CIConfigError("Job must be provided when including configs from artifacts")
                }
                try checkExtension(path)
                return [Location(origin: .artifact(job: job), path: strip(path))]
            }
        default:
            throw CIConfigError("Each include must be a hash or a string")
        }
    }

    private static func remoteRefused(_ url: String) -> CIConfigError {
        CIConfigError("Remote file `\(url)` could not be fetched: include:remote is not supported by Latchkey, which fetches nothing from the network")
    }

    private static func strip(_ path: String) -> String {
        path.hasPrefix("/") ? String(path.drop { $0 == "/" }) : path
    }

    private static func checkExtension(_ path: String) throws(CIConfigError) {
        guard path.hasSuffix(".yml") || path.hasSuffix(".yaml") else {
            throw CIConfigError("Included file `\(path)` does not have YAML extension!")
        }
    }

    /// A `local:` path, with `*` globs expanded against the commit's paths as GitLab does.
    private static func local(
        _ written: String, origin: Origin, files: (any CIRepositoryFiles)?, state: inout State
    ) async throws(CIConfigError) -> [Location] {
        try checkExtension(written)
        let path = strip(written)
        guard path.contains("*") else { return [Location(origin: origin, path: path)] }
        guard origin == .pipeline else { throw CIConfigError("Wildcard local includes inside a project include are not supported by Latchkey") }
        if state.paths == nil { state.paths = await files?.paths() ?? [] }
        let glob = CIGlob(path)
        return (state.paths ?? []).filter { glob.matches($0) }.sorted().map { Location(origin: .pipeline, path: $0) }
    }

    private static func read(_ location: Location, files: (any CIRepositoryFiles)?) async throws(CIConfigError) -> String {
        switch location.origin {
        case .pipeline:
            guard let text = await files?.localFile(location.path) else {
                throw CIConfigError("Local file `\(location.path)` does not exist!")
            }
            return text
        case .project(let project, let ref):
            guard let files else { throw CIConfigError("Project `\(project)` not found or access denied! Make sure any includes in the pipeline configuration are correctly defined.") }
            return try await files.projectFile(project: project, ref: ref, path: location.path)
        case .artifact(let job):
            guard let files else { throw CIConfigError(CIIncludedFile.artifactOutsideChild) }
            let text = try await files.artifactFile(job: job, path: location.path)
            guard !text.allSatisfy(\.isWhitespace) else { throw CIConfigError("File `\(location.path)` is empty!") }
            return text
        }
    }

    /// `include:rules` with `if`, `exists` and `changes`, seeing predefined and project variables (not the file's).
    private static func includeRulesMatch(
        _ value: YAMLValue, files: (any CIRepositoryFiles)?, context: CIPipelineContext, state: inout State
    ) async throws(CIConfigError) -> Bool {
        var reader = CIConfigReader()
        guard let rules = reader.readRules(value, location: "include:rules", keys: ["if", "exists", "changes", "when"], whens: ["never", "always"]),
            reader.errors.isEmpty
        else {
            throw CIConfigError(messages: reader.errors.isEmpty ? ["include:rules config should be a array"] : reader.errors)
        }
        if rules.usesExists, state.paths == nil { state.paths = await files?.paths() ?? [] }
        let variables = context.predefined.merging(context.overrides) { $1 }
        return try rules.evaluate(variables: variables, facts: CIRuleFacts(context: context, paths: state.paths, budget: state.budget), defaultWhen: "always").when != "never"
    }

    private static func json(_ mapping: YAMLMapping) -> String {
        "{" + mapping.entries.map { "\"\($0.key)\":\"\(CIExtends.rubyText($0.value))\"" }.joined(separator: ",") + "}"
    }
}

extension CIInclude {
    /// Without a repository every `include:` location is missing: fails with the message the first one gets.
    static func unavailable(_ root: YAMLMapping) throws(CIConfigError) -> YAMLMapping {
        let items: [YAMLValue]
        switch root.present("include") {
        case .sequence(let list)?: items = list
        case let item?: items = [item]
        case nil: return root
        }
        for item in items {
            switch item {
            case .string(let text) where text.hasPrefix("http://") || text.hasPrefix("https://"): throw remoteRefused(text)
            case .string(let path): throw CIConfigError("Local file `\(strip(path))` does not exist!")
            case .mapping(let mapping) where mapping.has("local"):
                throw CIConfigError("Local file `\(strip(mapping.present("local")?.stringValue ?? ""))` does not exist!")
            default: continue
            }
        }
        throw CIConfigError("include config is not supported without a repository")
    }
}

/// A file an `include:` read: a `local` one of the pipeline's own commit, or a `file` of another project.
public struct CIIncludedFile: Sendable, Equatable {
    public enum Kind: String, Sendable { case local, file, artifact }
    public var kind: Kind
    /// The path as the configuration named it (without a leading `/`).
    public var location: String
    /// For `file`: the project and the ref asked for (nil: its default branch).
    public var project: String?
    public var ref: String?
    /// For `artifact`: the parent pipeline's job whose archive holds the file.
    public var job: String?

    public init(kind: Kind, location: String, project: String? = nil, ref: String? = nil, job: String? = nil) {
        self.kind = kind
        self.location = location
        self.project = project
        self.ref = ref
        self.job = job
    }

    /// GitLab's refusal of `include:artifact` anywhere but a child pipeline's `trigger:include`.
    public static let artifactOutsideChild = "Including configs from artifacts is only allowed when triggering child pipelines"
}
