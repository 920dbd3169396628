import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// `GET` and `POST /projects/:id/ci/lint` (GitLab's `API::Lint`): the project's `.gitlab-ci.yml` at a commit (read_code), or a
/// given configuration (create_pipeline), checked by the pipeline compiler with `include:` read as the caller. A dry run also needs
/// the right to run pipelines on its ref. A job token is no credential here (not in GitLab's job-token table).
struct CILintController {
    let environment: ServerEnvironment
    let creator: PipelineCreator

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("projects/:id/ci/lint", use: lintProjectFile)
        routes.post("projects/:id/ci/lint", use: lintContent)
        return routes
    }

    @Sendable func lintProjectFile(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .downloadCode, actor: context.actor)
        let parameters = try await APIParameters.read(request, context: context)
        if parameters.has("sha"), parameters.has("content_ref") { throw APIError(.badRequest, error: "sha, content_ref are mutually exclusive") }
        if parameters.has("ref"), parameters.has("dry_run_ref") { throw APIError(.badRequest, error: "ref, dry_run_ref are mutually exclusive") }
        let project = facts.project
        let repositories = environment.repositories
        guard await !repositories.isEmpty(projectID: project.id) else { throw APIError.notFound("Repository") }
        let contentRef = try parameters.string("content_ref") ?? parameters.string("sha") ?? project.defaultBranch
        guard Git.isSafeRef(contentRef), let sha = await repositories.resolve(projectID: project.id, ref: contentRef) else { throw APIError.notFound("Commit") }
        let content = await repositories.file(projectID: project.id, sha: sha, path: ".gitlab-ci.yml").map { String(decoding: $0, as: UTF8.self) } ?? ""
        let ref = try parameters.string("dry_run_ref") ?? parameters.string("ref") ?? project.defaultBranch
        return try await lint(content, sha: sha, ref: ref, facts: facts, parameters: parameters, context: context)
    }

    @Sendable func lintContent(_ request: Request, context: AppRequestContext) async throws -> Response {
        let facts = try await environment.authorizer.project(try context.parameters.require("id"), .createPipeline, actor: context.actor)
        let parameters = try await APIParameters.read(request, context: context)
        guard let content = try parameters.string("content") else { throw APIError.missing("content") }
        let project = facts.project
        let ref = try parameters.string("ref").flatMap { $0.isEmpty ? nil : $0 } ?? project.defaultBranch
        let sha = Git.isSafeRef(ref) ? await environment.repositories.resolve(projectID: project.id, ref: ref) : nil
        return try await lint(content, sha: sha, ref: ref, facts: facts, parameters: parameters, context: context)
    }

    private func lint(
        _ content: String, sha: String?, ref: String, facts: ProjectAccessFacts, parameters: APIParameters, context: AppRequestContext
    ) async throws -> Response {
        let dryRun = try parameters.bool("dry_run") ?? false
        let includeJobs = try parameters.bool("include_jobs") ?? false
        let project = facts.project
        let baseURL = environment.settings.baseURL
        if dryRun {
            // GitLab simulates creating the pipeline as the caller: without the right to, the answer says so (200, invalid).
            do {
                try await environment.authorizer.authorize(context.actor, .createPipeline, facts, ref: ref)
            } catch is AccessDenied {
                let result = CILintResult(errors: ["Insufficient permissions to create a new pipeline"], mergedYAML: nil, includes: nil, definition: nil)
                return try JSON.response(LintEntity(result, project: project, sha: sha, baseURL: baseURL, includeJobs: includeJobs))
            }
        }
        let branch = await environment.repositories.resolve(projectID: project.id, ref: "refs/heads/\(ref)")
        let tag = await environment.repositories.resolve(projectID: project.id, ref: "refs/tags/\(ref)")
        let isTag = branch == nil && tag != nil
        let contextSHA = sha ?? PipelineCreator.zeroSHA
        // Project variables (protected ones on a protected ref) only for a dry run, which has just checked that the caller may run
        // a pipeline on the ref: a static lint must not let an include's error message or a rule's outcome reveal their values.
        let ciContext = try await creator.context(
            project: project, ref: ref, sha: contextSHA, isTag: isTag, source: .push, variables: [], beforeSHA: PipelineCreator.zeroSHA,
            projectVariables: dryRun)
        let files = sha.map { RepositoryCIFiles(environment: environment, project: project, sha: $0, actor: context.actor) }
        let result = await CIConfigParser.lint(content, context: ciContext, files: files, requireJobs: dryRun)
        return try JSON.response(LintEntity(result, project: project, sha: sha, baseURL: baseURL, includeJobs: includeJobs))
    }
}

/// GitLab's `Ci::Lint::Result` entity.
struct LintEntity: Encodable, Sendable {
    struct Include: Encodable, Sendable {
        var type: String
        var location: String
        @Nullable var blob: String?
        @Nullable var raw: String?
        var extra: [String: String]
        var contextProject: String
        @Nullable var contextSha: String?
    }

    struct Job: Encodable, Sendable {
        struct Need: Encodable, Sendable { var name: String }
        var name: String
        var stage: String
        var beforeScript: [String]
        var script: [String]
        var afterScript: [String]
        var tagList: [String]
        @Nullable var environment: String?
        var when: String
        var allowFailure: Bool
        @Nullable var needs: [Need]?
    }

    var valid: Bool
    var errors: [String]
    var warnings: [String]
    @Nullable var mergedYaml: String?
    @Nullable var includes: [Include]?
    var jobs: [Job]?

    init(_ result: CILintResult, project: Project, sha: String?, baseURL: String, includeJobs: Bool) {
        valid = result.isValid
        errors = result.errors
        warnings = result.warnings
        mergedYaml = result.mergedYAML
        includes = result.includes?.map { file in
            let owner = file.project ?? project.fullPath
            let at = file.kind == .local ? sha : (file.ref ?? nil)
            let location = at.map { "\(baseURL)/\(owner)/-/%@/\($0)/\(file.location)" }
            var extra: [String: String] = [:]
            if let other = file.project { extra["project"] = other }
            if let ref = file.ref { extra["ref"] = ref }
            return Include(
                type: file.kind.rawValue, location: file.location, blob: location.map { $0.replacingOccurrences(of: "%@", with: "blob") },
                raw: location.map { $0.replacingOccurrences(of: "%@", with: "raw") }, extra: extra, contextProject: project.fullPath, contextSha: sha)
        }
        if includeJobs {
            jobs = (result.definition?.jobs ?? []).map { job in
                Job(
                    name: job.name, stage: job.stage, beforeScript: job.beforeScript, script: job.script, afterScript: job.afterScript, tagList: job.tags,
                    environment: nil, when: job.when.rawValue, allowFailure: job.allowFailure, needs: job.needs?.map { Job.Need(name: $0) })
            }
        }
    }

    private enum CodingKeys: String, CodingKey { case valid, errors, warnings, mergedYaml, includes, jobs }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(valid, forKey: .valid)
        try container.encode(errors, forKey: .errors)
        try container.encode(warnings, forKey: .warnings)
        try container.encode(_mergedYaml, forKey: .mergedYaml)
        try container.encode(_includes, forKey: .includes)
        // `jobs` only when asked for (`include_jobs`), as GitLab's `expose :jobs, if:`.
        if let jobs { try container.encode(jobs, forKey: .jobs) }
    }
}
