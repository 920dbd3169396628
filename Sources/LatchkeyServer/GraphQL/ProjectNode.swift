import Foundation
import Graphiti
import LatchkeyCore

/// GitLab's `Project` type, with the fields Latchkey serves: identity, CI/CD settings, job token scope, authentication log.
struct ProjectNode: Sendable {
    let facts: ProjectAccessFacts
    let baseURL: String

    var project: Project { facts.project }
    var id: GraphQLID { .global("Project", project.id) }
    var name: String { project.name }
    var path: String { project.path }
    var fullPath: String { project.fullPath }
    var nameWithNamespace: String { project.nameWithNamespace }
    var description: String? { project.description.isEmpty ? nil : project.description }
    var visibility: String { project.visibility.rawValue }
    var webUrl: String { "\(baseURL)/\(project.fullPath)" }

    /// Maintainers only; anyone else gets null, as GitLab's type authorization does.
    func ciCdSettings(context: GraphQLContext, arguments: NoArguments) async throws -> CiCdSettingsNode? {
        guard context.mayAdminister(facts) else { return nil }
        return CiCdSettingsNode(project: self, inboundEnforced: try await context.inboundEnforced())
    }

    func ciJobTokenScope(context: GraphQLContext, arguments: NoArguments) async throws -> JobTokenScopeNode? {
        try await context.requireAdministration(facts)
        return try await JobTokenScopeNode.load(self, context: context)
    }

    func ciJobTokenAuthLogs(context: GraphQLContext, arguments: GraphQLPageArguments) async throws -> GraphQLConnection<AuthLogNode>? {
        try await context.requireAdministration(facts)
        var nodes: [AuthLogNode] = []
        for entry in try await context.store.jobTokenScope.authorizations(accessed: project.id) {
            nodes.append(AuthLogNode(originProject: try await context.node(for: entry.originProject), lastAuthorizedAt: GraphQLTime(entry.lastAuthorizedAt)))
        }
        return GraphQLConnection(nodes, arguments)
    }
}

/// GitLab's `ProjectCiCdSetting`: the job token switches of one project.
struct CiCdSettingsNode: Sendable {
    let project: ProjectNode
    let inboundEnforced: Bool

    /// On when the instance enforces the allowlist, whatever the project says (GitLab 18).
    var inboundJobTokenScopeEnabled: Bool { project.project.jobTokenInboundEnabled || inboundEnforced }
    var jobTokenScopeEnabled: Bool { project.project.jobTokenOutboundEnabled }
    var pushRepositoryForJobTokenAllowed: Bool { project.project.jobTokenPushAllowed }
}

/// One origin in GitLab's `CiJobTokenAuthLog`.
struct AuthLogNode: Sendable {
    /// Null when the viewer may not see the origin project.
    let originProject: ProjectNode?
    let lastAuthorizedAt: GraphQLTime
}

extension GraphQLContext {
    /// The project as a `Project` node, if the actor may read it (decided by `AccessPolicy`).
    func node(for project: Project) async throws -> ProjectNode? {
        let facts = try await environment.authorizer.facts(for: project, actor: actor)
        guard environment.authorizer.allows(actor, .readProject, facts) else { return nil }
        return ProjectNode(facts: facts, baseURL: baseURL)
    }
}
