import LatchkeyCore
import LatchkeyStore

extension JobPayloadBuilder {
    /// Fills in what container executors and gitlab-runner's cache and artifact steps read (GitLab's `BuildRunnerPresenter`):
    /// `image`, `services`, `cache` with its protection suffix, registry `credentials`, `hooks`, and `artifacts` with reports.
    func addContainerFields(
        to payload: inout JobPayload, job: Job, token: SecretToken, pipeline: Pipeline, project: Project, user: User?, refProtected: Bool
    ) async throws {
        let definition = job.definition
        payload.image = definition.image.map(Self.image)
        payload.services = definition.services.map(Self.image)
        if !definition.caches.isEmpty {
            let level: AccessLevel? = if let user { try await environment.authorizer.memberLevel(of: user, on: project) } else { nil }
            payload.cache = definition.caches.map { cache in
                let suffix = AccessPolicy.cacheKeySuffix(unprotect: cache.unprotect, refProtected: refProtected, memberLevel: level)
                return JobPayload.Cache(
                    key: "\(cache.key)-\(suffix)", untracked: cache.untracked, paths: cache.paths, policy: cache.policy, when: cache.when,
                    fallbackKeys: cache.fallbackKeys.map { "\($0)-\(suffix)" })
            }
        }
        // GitLab's `Credentials::Registry::GitlabRegistry`: the job token logs in to the instance's registry.
        if let registry = environment.settings.registryAddress {
            payload.credentials = [JobPayload.Credentials(url: registry, username: "gitlab-ci-token", password: token.value)]
        }
        payload.hooks = definition.hooks.map { [JobPayload.Hook(name: "pre_get_sources_script", script: $0.preGetSourcesScript)] }
        payload.artifacts = Self.artifacts(definition.artifacts)
    }

    /// GitLab's `BuildRunnerPresenter#artifacts`: the archive when `paths` or `untracked` is given, then one entry per report,
    /// always uploaded, in the report type's own format and file name.
    static func artifacts(_ spec: ArtifactsDefinition?) -> [JobPayload.ArtifactSpec] {
        guard let spec else { return [] }
        var list: [JobPayload.ArtifactSpec] = []
        if spec.hasArchive {
            list.append(
                JobPayload.ArtifactSpec(
                    name: spec.name ?? "artifacts", untracked: spec.untracked, paths: spec.paths, exclude: spec.exclude, when: spec.when.rawValue,
                    expireIn: spec.expireIn))
        }
        for report in spec.reports {
            list.append(
                JobPayload.ArtifactSpec(
                    name: report.fileName, paths: report.paths, when: "always", artifactType: report.type, artifactFormat: report.format,
                    expireIn: spec.expireIn))
        }
        return list
    }

    static func image(_ image: CIImage) -> JobPayload.Image {
        var options = JobPayload.Image.ExecutorOptions()
        if image.dockerPlatform != nil || image.dockerUser != nil {
            options.docker = .init(platform: image.dockerPlatform, user: image.dockerUser)
        }
        if image.kubernetesUser != nil { options.kubernetes = .init(user: image.kubernetesUser) }
        return JobPayload.Image(
            name: image.name, entrypoint: image.entrypoint, executorOpts: options, pullPolicy: image.pullPolicy, alias: image.alias,
            command: image.command, variables: image.variables.map { $0.map { JobPayload.ServiceVariable(key: $0.key, value: $0.value) } })
    }
}
