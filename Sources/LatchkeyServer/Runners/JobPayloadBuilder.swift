import Foundation
import LatchkeyCore
import LatchkeyStore

/// Builds the runner's view of a claimed job: script steps, artifacts, dependencies and the variables GitLab sends.
struct JobPayloadBuilder {
    let environment: ServerEnvironment
    /// Signs the job's `id_tokens:`; nil where the server has no OIDC key (then a job asking for them fails to start).
    var idTokens: IDTokenKeys? = nil

    func payload(job: Job, token: SecretToken, pipeline: Pipeline, project: Project, user: User?) async throws -> JobPayload {
        let base = environment.settings.baseURL
        let definition = job.definition
        let repoURL = Self.credentialURL(base: base, path: project.fullPath, token: token)
        let timeout = definition.timeoutSeconds ?? 3600
        let steps = [
            JobPayload.Step(name: "script", script: definition.beforeScript + definition.script, timeout: timeout, when: "on_success", allowFailure: false),
            JobPayload.Step(name: "after_script", script: definition.afterScript, timeout: timeout, when: "always", allowFailure: true),
        ].filter { !$0.script.isEmpty }
        let artifacts = definition.artifacts.map { spec in
            [JobPayload.ArtifactSpec(name: spec.name ?? "artifacts", paths: spec.paths, when: spec.when.rawValue, expireIn: spec.expireIn)]
        } ?? []
        var payload = JobPayload(
            id: job.id, token: token.value,
            jobInfo: .init(id: job.id, name: job.name, stage: job.stage, projectId: project.id, projectName: project.name),
            gitInfo: .init(
                repoUrl: repoURL, ref: pipeline.ref, sha: pipeline.sha, beforeSha: pipeline.beforeSHA, refType: pipeline.isTag ? "tag" : "branch",
                refspecs: ["+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"], depth: 20),
            runnerInfo: .init(timeout: timeout),
            variables: try await variables(job: job, token: token, pipeline: pipeline, project: project, user: user, repoURL: repoURL),
            steps: steps, artifacts: artifacts,
            dependencies: try await dependencies(job: job, token: token))
        let refProtected = try await environment.isProtectedRef(pipeline.ref, isTag: pipeline.isTag, projectID: project.id)
        try await addContainerFields(to: &payload, job: job, token: token, pipeline: pipeline, project: project, user: user, refProtected: refProtected)
        return payload
    }

    /// `http://gitlab-ci-token:<token>@host/path.git`.
    static func credentialURL(base: String, path: String, token: SecretToken) -> String {
        guard var components = URLComponents(string: base) else { return base }
        components.user = "gitlab-ci-token"
        components.password = token.value
        components.path = (components.path.hasSuffix("/") ? String(components.path.dropLast()) : components.path) + "/\(path).git"
        return components.string ?? base
    }

    private func variables(job: Job, token: SecretToken, pipeline: Pipeline, project: Project, user: User?, repoURL: String) async throws -> [JobVariable] {
        let base = environment.settings.baseURL
        let refProtected = try await environment.isProtectedRef(pipeline.ref, isTag: pipeline.isTag, projectID: project.id)
        var variables: [JobVariable] = [
            JobVariable(key: "CI_JOB_TOKEN", value: token.value, public: false, masked: true),
            JobVariable(key: "CI_REGISTRY_USER", value: "gitlab-ci-token", public: true),
            JobVariable(key: "CI_REGISTRY_PASSWORD", value: token.value, public: false, masked: true),
            JobVariable(key: "CI_DEPENDENCY_PROXY_USER", value: "gitlab-ci-token", public: true),
            JobVariable(key: "CI_DEPENDENCY_PROXY_PASSWORD", value: token.value, public: false, masked: true),
            JobVariable(key: "CI_REPOSITORY_URL", value: repoURL, public: false),
            JobVariable(key: "CI", value: "true", public: true),
            JobVariable(key: "GITLAB_CI", value: "true", public: true),
            JobVariable(key: "CI_SERVER", value: "yes", public: true),
            JobVariable(key: "CI_SERVER_URL", value: base, public: true),
            JobVariable(key: "CI_SERVER_HOST", value: URL(string: base)?.host ?? "localhost", public: true),
            JobVariable(key: "CI_SERVER_NAME", value: "Latchkey", public: true),
            JobVariable(key: "CI_API_V4_URL", value: base + "/api/v4", public: true),
            JobVariable(key: "CI_PROJECT_ID", value: String(project.id), public: true),
            JobVariable(key: "CI_PROJECT_NAME", value: project.path, public: true),
            JobVariable(key: "CI_PROJECT_TITLE", value: project.name, public: true),
            JobVariable(key: "CI_PROJECT_PATH", value: project.fullPath, public: true),
            JobVariable(key: "CI_PROJECT_PATH_SLUG", value: Self.slug(project.fullPath), public: true),
            JobVariable(key: "CI_PROJECT_NAMESPACE", value: project.namespace.fullPath, public: true),
            JobVariable(key: "CI_PROJECT_ROOT_NAMESPACE", value: String(project.namespace.fullPath.split(separator: "/").first ?? ""), public: true),
            JobVariable(key: "CI_PROJECT_URL", value: "\(base)/\(project.fullPath)", public: true),
            JobVariable(key: "CI_PROJECT_VISIBILITY", value: project.visibility.rawValue, public: true),
            JobVariable(key: "CI_DEFAULT_BRANCH", value: project.defaultBranch, public: true),
            JobVariable(key: "CI_PIPELINE_ID", value: String(pipeline.id), public: true),
            JobVariable(key: "CI_PIPELINE_IID", value: String(pipeline.iid), public: true),
            JobVariable(key: "CI_PIPELINE_SOURCE", value: pipeline.source.rawValue, public: true),
            JobVariable(key: "CI_PIPELINE_URL", value: "\(base)/\(project.fullPath)/-/pipelines/\(pipeline.id)", public: true),
            JobVariable(key: "CI_JOB_ID", value: String(job.id), public: true),
            JobVariable(key: "CI_JOB_NAME", value: job.name, public: true),
            JobVariable(key: "CI_JOB_STAGE", value: job.stage, public: true),
            JobVariable(key: "CI_JOB_URL", value: "\(base)/\(project.fullPath)/-/jobs/\(job.id)", public: true),
            JobVariable(key: "CI_COMMIT_SHA", value: pipeline.sha, public: true),
            JobVariable(key: "CI_COMMIT_SHORT_SHA", value: String(pipeline.sha.prefix(8)), public: true),
            JobVariable(key: "CI_COMMIT_BEFORE_SHA", value: pipeline.beforeSHA, public: true),
            JobVariable(key: "CI_COMMIT_REF_NAME", value: pipeline.ref, public: true),
            JobVariable(key: "CI_COMMIT_REF_SLUG", value: Self.slug(pipeline.ref), public: true),
            JobVariable(key: "CI_COMMIT_REF_PROTECTED", value: refProtected ? "true" : "false", public: true),
        ]
        if let target = job.definition.environment {
            let stored = try await environment.store.environments.jobFacts(projectID: project.id, name: target.name)
            variables += [
                JobVariable(key: "CI_ENVIRONMENT_NAME", value: target.name, public: true),
                JobVariable(key: "CI_ENVIRONMENT_SLUG", value: stored?.slug ?? EnvironmentName.slug(target.name), public: true),
                JobVariable(key: "CI_ENVIRONMENT_ACTION", value: target.action.rawValue, public: true),
                JobVariable(
                    key: "CI_ENVIRONMENT_TIER", value: (target.deploymentTier ?? stored?.tier ?? EnvironmentTier.guess(from: target.name)).rawValue, public: true),
            ]
            if let url = target.url.flatMap({ $0.isEmpty ? nil : $0 }) ?? stored?.externalURL {
                variables.append(JobVariable(key: "CI_ENVIRONMENT_URL", value: url, public: true))
            }
        }
        if let registry = environment.settings.registryAddress {
            variables += [
                JobVariable(key: "CI_REGISTRY", value: registry, public: true),
                JobVariable(key: "CI_REGISTRY_IMAGE", value: "\(registry)/\(project.fullPath)", public: true),
            ]
        }
        variables.append(
            pipeline.isTag
                ? JobVariable(key: "CI_COMMIT_TAG", value: pipeline.ref, public: true)
                : JobVariable(key: "CI_COMMIT_BRANCH", value: pipeline.ref, public: true))
        if let user {
            variables += [
                JobVariable(key: "GITLAB_USER_ID", value: String(user.id), public: true),
                JobVariable(key: "GITLAB_USER_LOGIN", value: user.username, public: true),
                JobVariable(key: "GITLAB_USER_NAME", value: user.name, public: true),
                JobVariable(key: "GITLAB_USER_EMAIL", value: user.email, public: true),
            ]
        }
        // Later definitions win, in GitLab's order (`Ci::Variables::Builder#scoped_variables`): YAML (global, job), the dotenv
        // reports of the jobs this one takes artifacts from, instance, group and project variables, then pipeline (trigger/API/schedule) variables.
        for variable in job.definition.variables {
            variables.append(JobVariable(key: variable.key, value: variable.value, public: true, raw: variable.raw))
        }
        // Refused at upload already; checked again so no stored row can ever replace a predefined variable.
        for variable in try await environment.store.jobs.dependencyDotenvVariables(of: job) where !DotenvReport.isPredefined(variable.key) {
            variables.append(JobVariable(key: variable.key, value: variable.value, public: false))
        }
        // Instance, then groups from the outermost, then the project; a variable scoped to an environment only reaches jobs that
        // deploy there (`environment:` of any action), so a `production` secret never reaches a test job.
        let deploysTo = job.definition.environment?.name
        for variable in try await environment.inheritedVariables(for: project).reaching(environment: deploysTo, refProtected: refProtected) {
            variables.append(JobVariable(key: variable.key, value: variable.value, public: false, masked: variable.masked, file: variable.variableType == "file", raw: variable.raw))
        }
        for variable in pipeline.variables { variables.append(JobVariable(key: variable.key, value: variable.value, public: false)) }
        // Last, so a variable of the same name cannot replace an ID token; masked like any token.
        if !job.definition.idTokens.isEmpty {
            guard let signer = try await idTokens?.signer() else { throw IDTokenError.noSigningKey }
            let level: AccessLevel? = if let user { try await environment.authorizer.memberLevel(of: user, on: project) } else { nil }
            for definition in job.definition.idTokens {
                let claims = IDTokenClaims.make(
                    job: job, pipeline: pipeline, project: project, user: user, accessLevel: level, audiences: definition.audiences,
                    issuer: environment.settings.baseURL, timeout: job.definition.timeoutSeconds ?? 3600,
                    refProtected: refProtected)
                variables.append(JobVariable(key: definition.name, value: try await signer.sign(claims), public: false, masked: true))
            }
        }
        return variables
    }

    /// The jobs whose artifacts this job receives: `dependencies`, or every earlier-stage job by default (one query).
    private func dependencies(job: Job, token: SecretToken) async throws -> [JobPayload.Dependency] {
        try await environment.store.jobs.dependencyArchives(of: job).map { archive in
            .init(id: archive.jobID, token: token.value, name: archive.name, artifactsFile: .init(filename: archive.filename, size: archive.size))
        }
    }

    /// GitLab's slug: lowercased, non-alphanumerics to `-`, at most 63 characters, no leading or trailing `-`.
    static func slug(_ text: String) -> String {
        let mapped = String(text.lowercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "-" }.prefix(63))
        return mapped.trimmingCharacters(in: CharacterSet(charactersIn: "-"))
    }
}
