/// Something an actor may want to do on a project; every route asks for exactly one.
public enum ProjectAbility: String, Sendable, CaseIterable {
    case readProject = "read_project"
    case readMembers = "read_project_member"
    case adminMembers = "admin_project_member"
    case manageOwners = "manage_owners"
    case adminProject = "admin_project"
    case removeProject = "remove_project"
    case downloadCode = "download_code"
    case pushCode = "push_code"
    case readPipeline = "read_pipeline"
    case createPipeline = "create_pipeline"
    case readJob = "read_build"
    case updateJob = "update_build"
    /// Cancel or retry a whole pipeline (GitLab's `update_pipeline`, `cancel_pipeline`).
    case updatePipeline = "update_pipeline"
    /// Delete a pipeline with its jobs, traces and artifacts (Owners only, as GitLab).
    case destroyPipeline = "destroy_pipeline"
    case readJobArtifacts = "read_job_artifacts"
    case readPipelineSchedule = "read_pipeline_schedule"
    case createPipelineSchedule = "create_pipeline_schedule"
    case adminPipelineSchedule = "admin_pipeline_schedule"
    case adminVariables = "admin_cicd_variables"
    case readPackage = "read_package"
    case createPackage = "create_package"
    case readRelease = "read_release"
    case createRelease = "create_release"
    /// Changing a release or its asset links (GitLab's `update_release`).
    case updateRelease = "update_release"
    /// Deleting a release or one of its asset links (GitLab's `destroy_release`).
    case destroyRelease = "destroy_release"
    case readContainerImage = "read_container_image"
    case createContainerImage = "create_container_image"
    case adminJobTokenScope = "admin_job_token_scope"
    case readAuditEvents = "read_audit_events"
    case readEnvironment = "read_environment"
    /// Creating, changing, stopping and deleting (stopped) environments (GitLab's `create/update/stop/destroy_environment`).
    case adminEnvironment = "update_environment"
    case readDeployment = "read_deployment"
    /// Recording a deployment made outside CI and changing its status (GitLab's `create_deployment`, `update_deployment`).
    case createDeployment = "create_deployment"
    case destroyDeployment = "destroy_deployment"
    /// Listing and downloading secure files (Developer, as GitLab: they hold signing keys and the like).
    case readSecureFiles = "read_secure_files"
    case adminSecureFiles = "admin_secure_files"

    /// The least role a member needs for the ability on a private project.
    public var minimumLevel: AccessLevel {
        switch self {
        case .readProject, .readMembers: .guest
        case .downloadCode, .readPipeline, .readJob, .readJobArtifacts, .readPackage, .readRelease, .readContainerImage,
            .readPipelineSchedule, .readEnvironment, .readDeployment:
            .reporter
        case .pushCode, .createPipeline, .updateJob, .updatePipeline, .createPipelineSchedule, .createPackage, .createRelease, .updateRelease, .destroyRelease,
            .createContainerImage, .adminEnvironment, .createDeployment, .readSecureFiles:
            .developer
        case .adminMembers, .adminProject, .adminPipelineSchedule, .adminVariables, .adminJobTokenScope, .readAuditEvents, .destroyDeployment, .adminSecureFiles:
            .maintainer
        case .manageOwners, .removeProject, .destroyPipeline:
            .owner
        }
    }

    /// Whether anyone who can see a public or internal project has the ability without being a member.
    public var isOpenOnVisibleProjects: Bool {
        switch self {
        case .readProject, .readMembers, .downloadCode, .readPipeline, .readJob, .readJobArtifacts, .readPackage, .readRelease,
            .readContainerImage:
            true
        default:
            false
        }
    }

    /// Whether the ability changes state (a `read_api` token may not use it).
    public var isWrite: Bool {
        switch self {
        case .readProject, .readMembers, .downloadCode, .readPipeline, .readJob, .readJobArtifacts, .readPipelineSchedule, .readPackage,
            .readRelease, .readContainerImage, .readAuditEvents, .readEnvironment, .readDeployment, .readSecureFiles:
            false
        default:
            true
        }
    }
}

/// Something an actor may want to do on a group.
public enum GroupAbility: String, Sendable, CaseIterable {
    case readGroup = "read_group"
    case adminMembers = "admin_group_member"
    case manageOwners = "manage_owners"
    case createProject = "create_projects"
    case createSubgroup = "create_subgroup"
    case adminGroup = "admin_group"
    /// The group's CI/CD variables, which every project below it inherits: Owners only, as GitLab's GroupPolicy.
    case adminVariables = "admin_cicd_variables"

    public var minimumLevel: AccessLevel {
        switch self {
        case .readGroup: .guest
        case .createProject: .developer
        case .adminMembers, .createSubgroup: .maintainer
        case .manageOwners, .adminGroup, .adminVariables: .owner
        }
    }

    public var isWrite: Bool { self != .readGroup }
}
