import Hummingbird
import LatchkeyCore

/// The routes a CI/CD job token may call (gitlab-compat.md §3), registered in one place so that the table in
/// docs/job-token-routes.md is made from the same registrations (`JobTokenRouteTableTests` fails when they differ).
enum JobTokenRoutes {
    /// Adds every job-token route to `group`, which already turns a job token into a `.job` actor.
    static func add(to group: RouterGroup<AppRequestContext>, environment: ServerEnvironment, triggers: PipelineTriggerController) {
        group.addRoutes(CurrentJobController(environment: environment).endpoints)
        group.addRoutes(JobTokenRevocationController(environment: environment).endpoints)
        group.addRoutes(RepositoryController(environment: environment).endpoints)
        group.addRoutes(JobArtifactsController(environment: environment).endpoints)
        group.addRoutes(triggers.endpoints)
        group.addRoutes(PipelineMetadataController(environment: environment).endpoints)
        group.addRoutes(GenericPackagesController(environment: environment).endpoints)
        group.addRoutes(ReleasesController(environment: environment).endpoints)
        // GitLab's environments, deployments and secure files APIs authenticate first: an anonymous caller gets 401 even on a public
        // project.
        let deploymentsAPI = group.group().add(middleware: AuthenticationRequiredMiddleware())
        deploymentsAPI.addRoutes(
            EnvironmentsController(authorizer: environment.authorizer, store: environment.store, baseURL: environment.settings.baseURL).endpoints)
        deploymentsAPI.addRoutes(
            SecureFilesController(authorizer: environment.authorizer, secureFiles: environment.store.secureFiles, baseURL: environment.settings.baseURL).endpoints)
        deploymentsAPI.addRoutes(
            DeploymentsController(
                authorizer: environment.authorizer, store: environment.store, repositories: environment.repositories, baseURL: environment.settings.baseURL
            ).endpoints)
    }
}

extension JobTokenRoutes {
    /// What a job token may do on one route.
    enum Access: Sendable {
        /// The ability the route asks the `Authorizer` for: the job's user must hold it, the target's allowlist must admit the job
        /// (with the ability's fine-grained policy when the entry has some), and the job's `permissions:` must include it.
        case ability(ProjectAbility)
        /// Only about the job's own token or job, whatever the project.
        case ownJob(String)
    }

    /// Keyed by `METHOD path` as the router prints it. `releases/**` carries the release and its asset links (a link is created
    /// with create_release, changed with update_release, deleted with destroy_release).
    static let access: [String: Access] = [
        "GET /api/v4/job": .ownJob("read its own job (`GET /job`), whatever its permissions"),
        "POST /api/v4/job/token/revoke": .ownJob("revoke its own token"),
        "DELETE /api/v4/projects/{id}/deployments/{deployment_id}": .ability(.destroyDeployment),
        "DELETE /api/v4/projects/{id}/environments/{environment_id}": .ability(.adminEnvironment),
        "DELETE /api/v4/projects/{id}/releases/**": .ability(.destroyRelease),
        "DELETE /api/v4/projects/{id}/secure_files/{secure_file_id}": .ability(.adminSecureFiles),
        "GET /api/v4/projects/{id}/deployments": .ability(.readDeployment),
        "GET /api/v4/projects/{id}/deployments/{deployment_id}": .ability(.readDeployment),
        "GET /api/v4/projects/{id}/environments": .ability(.readEnvironment),
        "GET /api/v4/projects/{id}/environments/{environment_id}": .ability(.readEnvironment),
        "GET /api/v4/projects/{id}/jobs/artifacts/**": .ability(.readJobArtifacts),
        "GET /api/v4/projects/{id}/jobs/{job_id}/artifacts": .ability(.readJobArtifacts),
        "GET /api/v4/projects/{id}/jobs/{job_id}/artifacts/**": .ability(.readJobArtifacts),
        "GET /api/v4/projects/{id}/packages": .ability(.readPackage),
        "GET /api/v4/projects/{id}/packages/generic/**": .ability(.readPackage),
        "GET /api/v4/projects/{id}/releases": .ability(.readRelease),
        "GET /api/v4/projects/{id}/releases/**": .ability(.readRelease),
        "GET /api/v4/projects/{id}/repository/branches": .ability(.downloadCode),
        "GET /api/v4/projects/{id}/repository/branches/{branch}": .ability(.downloadCode),
        "GET /api/v4/projects/{id}/repository/commits/**": .ability(.downloadCode),
        "GET /api/v4/projects/{id}/repository/files/{file_path}": .ability(.downloadCode),
        "GET /api/v4/projects/{id}/repository/files/{file_path}/raw": .ability(.downloadCode),
        "GET /api/v4/projects/{id}/repository/tags": .ability(.downloadCode),
        "GET /api/v4/projects/{id}/repository/tags/**": .ability(.downloadCode),
        "GET /api/v4/projects/{id}/secure_files": .ability(.readSecureFiles),
        "GET /api/v4/projects/{id}/secure_files/{secure_file_id}": .ability(.readSecureFiles),
        "GET /api/v4/projects/{id}/secure_files/{secure_file_id}/download": .ability(.readSecureFiles),
        "POST /api/v4/projects/{id}/deployments": .ability(.createDeployment),
        "POST /api/v4/projects/{id}/environments": .ability(.adminEnvironment),
        "POST /api/v4/projects/{id}/environments/{environment_id}/stop": .ability(.adminEnvironment),
        "POST /api/v4/projects/{id}/releases": .ability(.createRelease),
        "POST /api/v4/projects/{id}/releases/**": .ability(.createRelease),
        "POST /api/v4/projects/{id}/secure_files": .ability(.adminSecureFiles),
        "POST /api/v4/projects/{id}/trigger/pipeline": .ability(.createPipeline),
        "PUT /api/v4/projects/{id}/deployments/{deployment_id}": .ability(.createDeployment),
        "PUT /api/v4/projects/{id}/environments/{environment_id}": .ability(.adminEnvironment),
        "PUT /api/v4/projects/{id}/packages/generic/**": .ability(.createPackage),
        "PUT /api/v4/projects/{id}/pipelines/{pipeline_id}/metadata": .ability(.updatePipeline),
        "PUT /api/v4/projects/{id}/releases/**": .ability(.updateRelease),
    ]

    /// The Markdown table of every job-token route, by path.
    static func markdown(routes: [String]) -> String {
        var lines = [
            "# Job-token routes", "",
            "Generated from the route registrations (`JobTokenRoutes.add`); `JobTokenRouteTableTests` fails when this file and the code differ.",
            "Every other route ignores a job token. A cross-project call also needs the target's allowlist to admit the job's project",
            "(with the policy named here when the entry has fine-grained permissions) and the job's `permissions:` to include the resource.", "",
            "| Route | A job token may | Ability | Allowlist policy | `permissions:` |", "|---|---|---|---|---|",
        ]
        let byPath = routes.sorted { ($0.split(separator: " ").last ?? "", $0) < ($1.split(separator: " ").last ?? "", $1) }
        for route in byPath {
            switch access[route] {
            case .ability(let ability)?:
                let policy = ability.jobTokenPolicy.map { "`\($0.rawValue)`" } ?? "—"
                let permission = ability.jobTokenPermission.map { "`\($0.description)`" } ?? "—"
                lines.append("| `\(route)` | as its user, who needs \(ability.minimumLevel.title) | `\(ability.rawValue)` | \(policy) | \(permission) |")
            case .ownJob(let what)?:
                lines.append("| `\(route)` | \(what) | — | — | — |")
            case nil:
                lines.append("| `\(route)` | (undocumented) | | | |")
            }
        }
        lines += [
            "", "Outside `/api/v4`: git over HTTP (`gitlab-ci-token` as the user) clones and fetches with `download_code`, and pushes to the",
            "job's own project with `push_code` when `ci_push_repository_for_job_token_allowed` is on (no pipeline starts); the container",
            "registry's `/jwt/auth` grants `pull` with `read_container_image` and `push` to the job's own project with `create_container_image`.",
        ]
        return lines.joined(separator: "\n") + "\n"
    }
}
