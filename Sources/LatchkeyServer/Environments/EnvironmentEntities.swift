import Foundation
import LatchkeyCore

/// GitLab's `EnvironmentBasic`, as deployments embed it.
struct EnvironmentBasicEntity: Encodable, Sendable {
    var id: Int64
    var name: String
    var slug: String
    @Nullable var externalUrl: String?
    var createdAt: Date
    var updatedAt: Date

    init(_ environment: DeploymentEnvironment) {
        id = environment.id
        name = environment.name
        slug = environment.slug
        externalUrl = environment.externalURL
        createdAt = environment.createdAt
        updatedAt = environment.updatedAt
    }
}

/// GitLab's `Environment` entity; the single-environment answer adds `last_deployment`.
struct EnvironmentEntity: Encodable, Sendable {
    var id: Int64
    var name: String
    var slug: String
    @Nullable var description: String?
    @Nullable var externalUrl: String?
    var createdAt: Date
    var updatedAt: Date
    var tier: String
    var state: String
    @Nullable var autoStopAt: Date?
    var autoStopSetting = "always"
    @Nullable var lastDeployment: DeploymentEntity?

    init(_ environment: DeploymentEnvironment, lastDeployment: DeploymentEntity? = nil) {
        id = environment.id
        name = environment.name
        slug = environment.slug
        description = nil
        externalUrl = environment.externalURL
        createdAt = environment.createdAt
        updatedAt = environment.updatedAt
        tier = environment.tier.rawValue
        state = environment.state.rawValue
        autoStopAt = nil
        self.lastDeployment = lastDeployment
    }
}

/// GitLab's `Deployment` entity: who deployed what where, and the job that did it.
struct DeploymentEntity: Encodable, Sendable {
    var id: Int64
    var iid: Int64
    var ref: String
    var sha: String
    var createdAt: Date
    var updatedAt: Date
    @Nullable var finishedAt: Date?
    var status: String
    @Nullable var user: UserBasicEntity?
    var environment: EnvironmentBasicEntity
    @Nullable var deployable: JobEntity?

    init(_ deployment: Deployment, environment: DeploymentEnvironment, user: User?, deployable: JobEntity?, baseURL: String) {
        id = deployment.id
        iid = deployment.iid
        ref = deployment.ref
        sha = deployment.sha
        createdAt = deployment.createdAt
        updatedAt = deployment.updatedAt
        finishedAt = deployment.finishedAt
        status = deployment.status.rawValue
        self.user = user.map { UserBasicEntity($0, baseURL: baseURL) }
        self.environment = EnvironmentBasicEntity(environment)
        self.deployable = deployable
    }
}
