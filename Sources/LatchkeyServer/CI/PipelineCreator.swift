import Foundation
import LatchkeyCore
import LatchkeyStore
import Logging

/// Makes pipelines from commits: reads `.gitlab-ci.yml` at the commit, parses it, and stores the pipeline as the user who caused it.
public struct PipelineCreator: Sendable {
    let environment: ServerEnvironment
    let queue: JobQueue

    /// Why no pipeline could be made.
    enum Failure: Error, Equatable {
        case unknownRef
        case missingConfiguration
        case invalidConfiguration([String])
        /// `workflow:rules` or job rules left nothing to run; GitLab keeps no pipeline then.
        case filtered([String])
        /// A bare name that is both a branch and a tag (GitLab's "Ref is ambiguous").
        case ambiguousRef
    }

    /// Which kind of ref a name is, when the caller knows (a push names `refs/heads/…` or `refs/tags/…`).
    enum RefKind: Sendable {
        case branch, tag
    }

    public static let zeroSHA = String(repeating: "0", count: 40)

    /// Creates a pipeline for `ref` as `user`: of that kind when `kind` says, else a bare name that must be a branch or a tag but
    /// not both (a tag named like a branch must never run the branch's code, nor a branch's pipeline borrow a tag's protection).
    func create(
        project: Project, ref: String, kind: RefKind? = nil, source: PipelineSource, user: User?, variables: [CIVariable] = [], scheduleID: Int64? = nil,
        upstreamJobID: Int64? = nil, beforeSHA: String = zeroSHA, persistInvalid: Bool = true
    ) async throws -> Pipeline {
        let repositories = environment.repositories
        let branchSHA = kind == .tag ? nil : await repositories.resolve(projectID: project.id, ref: "refs/heads/\(ref)")
        let tagSHA = kind == .branch ? nil : await repositories.resolve(projectID: project.id, ref: "refs/tags/\(ref)")
        if branchSHA != nil, tagSHA != nil { throw Failure.ambiguousRef }
        let isTag = tagSHA != nil
        guard let sha = branchSHA ?? tagSHA else {
            throw Failure.unknownRef
        }
        guard let file = await repositories.file(projectID: project.id, sha: sha, path: ".gitlab-ci.yml") else { throw Failure.missingConfiguration }
        return try await make(
            project: project, ref: ref, sha: sha, isTag: isTag, beforeSHA: beforeSHA, configuration: String(decoding: file, as: UTF8.self), source: source,
            user: user, variables: variables, scheduleID: scheduleID, upstreamJobID: upstreamJobID, persistInvalid: persistInvalid)
    }

    /// The child pipeline `bridge` of `parent` starts: the parent's commit (not wherever its ref is now), `configuration` (the
    /// bridge's `include:`) as its file, source `parent_pipeline`, as `user`. Invalid files give a failed pipeline, as GitLab.
    func createChild(of parent: Pipeline, bridge: Job, configuration: String, project: Project, user: User, variables: [CIVariable]) async throws -> Pipeline {
        try await make(
            project: project, ref: parent.ref, sha: parent.sha, isTag: parent.isTag, beforeSHA: parent.beforeSHA, configuration: configuration,
            source: .parentPipeline, user: user, variables: variables, scheduleID: nil, upstreamJobID: bridge.id, parentPipelineID: parent.id,
            persistInvalid: true)
    }

    private func make(
        project: Project, ref: String, sha: String, isTag: Bool, beforeSHA: String, configuration text: String, source: PipelineSource, user: User?,
        variables: [CIVariable], scheduleID: Int64?, upstreamJobID: Int64?, parentPipelineID: Int64? = nil, persistInvalid: Bool
    ) async throws -> Pipeline {
        let ciContext = try await context(
            project: project, ref: ref, sha: sha, isTag: isTag, source: source, variables: variables, beforeSHA: beforeSHA)
        let files = RepositoryCIFiles(
            environment: environment, project: project, sha: sha, actor: user.map { .user(UserActor(user: $0, scopes: nil)) } ?? .anonymous,
            parentPipelineID: parentPipelineID)
        let configuration: Result<PipelineDefinition, CIConfigError>
        do {
            configuration = .success(try await CIConfigParser.parse(text, context: ciContext, files: files))
        } catch {
            // A push keeps a failed pipeline that shows the errors; the API refuses instead, as GitLab does.
            guard persistInvalid else { throw Failure.invalidConfiguration(error.messages) }
            // A pipeline filtered out by rules is not kept at all (GitLab's `filtered_by_workflow_rules` / `filtered_by_rules`).
            if error.isFiltered { throw Failure.filtered(error.messages) }
            configuration = .failure(error)
        }
        let new = NewPipeline(
            projectID: project.id, ref: ref, sha: sha, beforeSHA: beforeSHA, isTag: isTag, source: source, userID: user?.id, scheduleID: scheduleID,
            upstreamJobID: upstreamJobID, variables: variables)
        let pipeline = try await environment.store.pipelines.create(new, configuration: configuration)
        try await environment.store.projects.touch(id: project.id)
        await queue.notify()
        environment.logger.info("pipeline created", metadata: ["pipeline": "\(pipeline.id)", "project": "\(project.fullPath)", "status": "\(pipeline.status.rawValue)"])
        return pipeline
    }

    /// Creates a pipeline for every branch or tag a push updated (from the post-receive hook's record), as the pusher.
    func pushed(logFile: URL, project: Project, user: User) async {
        defer { try? FileManager.default.removeItem(at: logFile) }
        guard let text = try? String(contentsOf: logFile, encoding: .utf8) else { return }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 3, fields[1] != Self.zeroSHA[...] else { continue }
            let refName = String(fields[2])
            let ref: String
            let kind: RefKind
            if refName.hasPrefix("refs/heads/") {
                ref = String(refName.dropFirst("refs/heads/".count))
                kind = .branch
            } else if refName.hasPrefix("refs/tags/") {
                ref = String(refName.dropFirst("refs/tags/".count))
                kind = .tag
            } else {
                continue
            }
            do {
                _ = try await create(project: project, ref: ref, kind: kind, source: .push, user: user, beforeSHA: String(fields[0]))
            } catch Failure.missingConfiguration {
                continue
            } catch Failure.filtered(let messages) {
                environment.logger.info("no pipeline after push", metadata: ["project": "\(project.fullPath)", "ref": "\(ref)", "reason": "\(messages.joined())"])
            } catch {
                environment.logger.error("pipeline creation after push failed", metadata: ["project": "\(project.fullPath)", "error.type": "\(type(of: error))"])
            }
        }
    }
}

extension PipelineCreator {
    /// The facts rules are decided on: predefined variables a pipeline has before its jobs exist, project and
    /// pipeline variables (which override the file's), and the paths a push changed.
    /// The context a pipeline's file is read in; `projectVariables: false` leaves the project's CI/CD variables out (a lint by
    /// someone who may not run a pipeline on the ref must not see the values that ref's pipelines would get).
    func context(
        project: Project, ref: String, sha: String, isTag: Bool, source: PipelineSource, variables: [CIVariable], beforeSHA: String,
        projectVariables: Bool = true
    ) async throws -> CIPipelineContext {
        var predefined = CIPipelineContext.predefinedVariables(source: source, ref: ref, isTag: isTag, projectPath: project.fullPath)
        let base = environment.settings.baseURL
        predefined.merge([
            "CI_COMMIT_SHA": sha, "CI_COMMIT_SHORT_SHA": String(sha.prefix(8)), "CI_COMMIT_BEFORE_SHA": beforeSHA,
            "CI_COMMIT_REF_SLUG": JobPayloadBuilder.slug(ref), "CI_DEFAULT_BRANCH": project.defaultBranch,
            "CI_PROJECT_ID": String(project.id), "CI_PROJECT_NAME": project.path, "CI_PROJECT_NAMESPACE": project.namespace.fullPath,
            "CI_PROJECT_URL": "\(base)/\(project.fullPath)", "CI_PROJECT_VISIBILITY": project.visibility.rawValue,
            "CI_SERVER_URL": base, "CI_SERVER_HOST": URL(string: base)?.host ?? "localhost", "CI_API_V4_URL": base + "/api/v4",
        ]) { _, new in new }
        if let commit = await environment.repositories.commit(projectID: project.id, sha: sha) {
            predefined["CI_COMMIT_MESSAGE"] = commit.message
            predefined["CI_COMMIT_TITLE"] = commit.title
            predefined["CI_COMMIT_AUTHOR"] = "\(commit.authorName) <\(commit.authorEmail)>"
        }
        var overrides: [String: String] = [:]
        let refProtected = try await environment.isProtectedRef(ref, isTag: isTag, projectID: project.id)
        predefined["CI_COMMIT_REF_PROTECTED"] = refProtected ? "true" : "false"
        if projectVariables {
            for variable in try await environment.inheritedVariables(for: project).reaching(environment: nil, refProtected: refProtected) {
                overrides[variable.key] = variable.value
            }
        }
        for variable in variables { overrides[variable.key] = variable.value }
        // `changes` compares the pushed range; a new ref (zero before-SHA) or a pipeline not made by a push has none, so it is true.
        var changed: [String]?
        // A child pipeline compares the same push as its parent (GitLab's `modified_paths` go by the before-SHA, not the source).
        if source == .push || source == .parentPipeline, beforeSHA != Self.zeroSHA {
            changed = await RepositoryCIFiles.diff(environment: environment, projectID: project.id, from: beforeSHA, to: sha)
        }
        var context = CIPipelineContext(
            source: source, ref: ref, isTag: isTag, projectPath: project.fullPath, predefined: predefined, overrides: overrides, changedPaths: changed)
        context.limits = environment.settings.pipelineLimits
        return context
    }
}

extension PipelineCreator: CustomStringConvertible {
    public var description: String { "PipelineCreator" }
}
