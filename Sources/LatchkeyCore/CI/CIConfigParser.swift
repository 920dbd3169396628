/// Parses `.gitlab-ci.yml` into the pipeline GitLab would create for a given context.
///
/// Order as GitLab's `Ci::Config`: load the YAML, expand `include:`, resolve `extends:`, then `!reference` tags;
/// validate every entry (all entry errors are collected and reported together, lower-cased as GitLab does), then
/// the cross-job relations (stages, needs, dependencies; they stop at the first error); finally evaluate
/// `workflow:rules`, `parallel:`, `rules:` or `only`/`except` for the context. Keywords Latchkey cannot honour
/// (`trigger`, `secrets`, `pages`, `release`, ...) are refused by name rather than ignored, so a
/// pipeline never runs differently from what the file asks.
public enum CIConfigParser {
    /// Most distinct `cache:key:files` paths in one pipeline: each costs a history walk at creation.
    public static let maxCacheKeyFiles = 100

    /// Parses `yaml` for a push to branch `main` with no repository: `include:` fails, `exists` finds nothing.
    public static func parse(_ yaml: String) throws(CIConfigError) -> PipelineDefinition {
        let root = try load(yaml)
        guard !root.has("include") else {
            return try definition(CIInclude.unavailable(root), context: CIPipelineContext(), paths: nil, comparisons: [:])
        }
        return try definition(root, context: CIPipelineContext(), paths: nil, comparisons: [:])
    }

    /// Parses `yaml` for `context`, reading included files, `exists` paths and `compare_to` diffs from `files`.
    public static func parse(
        _ yaml: String, context: CIPipelineContext, files: (any CIRepositoryFiles)?
    ) async throws(CIConfigError) -> PipelineDefinition {
        let root = try await CIInclude.expand(try load(yaml), files: files, context: context)
        return try await definition(expanded: root, context: context, files: files)
    }

    /// The pipeline of a configuration whose `include:` is already expanded.
    private static func definition(
        expanded root: YAMLMapping, context: CIPipelineContext, files: (any CIRepositoryFiles)?
    ) async throws(CIConfigError) -> PipelineDefinition {
        // Reading first tells whether the commit's paths or any diffs are needed; both cost a git call.
        let config = try read(root)
        let paths = config.usesExists ? await files?.paths() : nil
        var comparisons: [String: [String]?] = [:]
        for ref in config.compareRefs {
            comparisons[ref] = await files?.changedPaths(comparedTo: ref)
            if comparisons[ref] ?? nil == nil {
                throw CIConfigError("Failed to parse rule for \(config.jobs.first { $0.rules?.compareRefs.contains(ref) ?? false }?.name ?? "workflow"): rules:changes:compare_to is not a valid ref")
            }
        }
        var fileCommits: [String: String] = [:]
        let keyFiles = config.cacheKeyFiles
        if keyFiles.count > maxCacheKeyFiles {
            throw CIConfigError("cache:key:files names \(keyFiles.count) different files; at most \(maxCacheKeyFiles) are allowed in one pipeline")
        }
        if !keyFiles.isEmpty, let files { fileCommits = await files.lastCommits(paths: keyFiles) }
        return try config.definition(facts: CIRuleFacts(context: context, paths: paths, comparisons: comparisons, fileCommits: fileCommits))
    }

    private static func load(_ yaml: String) throws(CIConfigError) -> YAMLMapping {
        if yaml.allSatisfy(\.isWhitespace) {
            throw CIConfigError("Please provide content of .gitlab-ci.yml")
        }
        guard case .mapping(let document) = try YAMLLoader.load(yaml) else {
            throw CIConfigError("Invalid configuration format")
        }
        return document
    }

    private static func read(_ document: YAMLMapping) throws(CIConfigError) -> CIReadConfig {
        let root = try CIReference.resolve(try CIExtends.resolve(document))
        var reader = CIConfigReader()
        let config = reader.readRoot(root)
        guard reader.errors.isEmpty, let config else {
            throw CIConfigError(messages: reader.errors.isEmpty ? ["Invalid configuration format"] : reader.errors)
        }
        try validateRelations(config)
        return config
    }

    private static func definition(
        _ document: YAMLMapping, context: CIPipelineContext, paths: [String]?, comparisons: [String: [String]?]
    ) throws(CIConfigError) -> PipelineDefinition {
        try read(document).definition(facts: CIRuleFacts(context: context, paths: paths, comparisons: comparisons))
    }

    /// Checks `yaml` as GitLab's CI Lint does: the errors (none when valid), the configuration with its includes merged
    /// (nil when it could not be loaded or expanded), the files included, and the jobs a pipeline for `context` would have.
    /// A configuration whose rules leave nothing to run for `context` is still valid unless `requireJobs` (a dry run) is set.
    public static func lint(
        _ yaml: String, context: CIPipelineContext, files: (any CIRepositoryFiles)?, requireJobs: Bool
    ) async -> CILintResult {
        let loaded: YAMLMapping
        do {
            loaded = try load(yaml)
        } catch {
            return CILintResult(errors: error.messages, mergedYAML: nil, includes: nil, definition: nil)
        }
        var included: [CIIncludedFile] = []
        let root: YAMLMapping
        do {
            root = try await CIInclude.expand(loaded, files: files, context: context, included: &included)
        } catch {
            return CILintResult(errors: error.messages, mergedYAML: nil, includes: nil, definition: nil)
        }
        let merged = YAMLEmitter.document(root)
        do {
            let definition = try await definition(expanded: root, context: context, files: files)
            return CILintResult(errors: [], mergedYAML: merged, includes: included, definition: definition)
        } catch {
            if error.isFiltered, !requireJobs { return CILintResult(errors: [], mergedYAML: merged, includes: included, definition: nil) }
            return CILintResult(errors: error.messages, mergedYAML: merged, includes: included, definition: nil)
        }
    }
}

/// What CI Lint says about a configuration (GitLab's `Gitlab::Ci::Lint::Result`).
public struct CILintResult: Sendable, Equatable {
    public var errors: [String]
    /// Latchkey reports no warnings yet (GitLab warns, for example, about `rules: when` without `workflow:rules`).
    public var warnings: [String] = []
    public var mergedYAML: String?
    public var includes: [CIIncludedFile]?
    /// The pipeline the configuration makes for the context; nil when invalid or when rules leave no job.
    public var definition: PipelineDefinition?

    public var isValid: Bool { errors.isEmpty }

    public init(errors: [String], mergedYAML: String?, includes: [CIIncludedFile]?, definition: PipelineDefinition?) {
        self.errors = errors
        self.mergedYAML = mergedYAML
        self.includes = includes
        self.definition = definition
    }
}
