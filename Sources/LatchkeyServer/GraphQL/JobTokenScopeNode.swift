import Foundation
import Graphiti
import LatchkeyCore

/// GitLab's `CiJobTokenScopeType`: a project's allowlists as its Maintainers see them.
struct JobTokenScopeNode: Sendable {
    let project: ProjectNode
    /// The project itself first (every list includes it), then its inbound project entries.
    let inboundProjects: [AccessibleProjectNode]
    let groups: [AccessibleGroupNode]
    let outboundProjects: [ProjectNode]

    static func load(_ project: ProjectNode, context: GraphQLContext) async throws -> JobTokenScopeNode {
        let inbound = try await context.store.jobTokenScope.entries(project: project.project.id, direction: .inbound)
        var projects = [AccessibleProjectNode(project: project.project, baseURL: context.baseURL, grant: AllowlistGrant(), autopopulated: false)]
        var groups: [AccessibleGroupNode] = []
        for entry in inbound {
            switch entry.target {
            case .project(let other):
                projects.append(AccessibleProjectNode(project: other, baseURL: context.baseURL, grant: entry.grant, autopopulated: entry.autopopulated))
            case .group(let group):
                groups.append(AccessibleGroupNode(group: group, baseURL: context.baseURL, grant: entry.grant, autopopulated: entry.autopopulated))
            }
        }
        // GitLab lists only the outbound projects the viewer can read.
        var outbound: [ProjectNode] = [project]
        for entry in try await context.store.jobTokenScope.entries(project: project.project.id, direction: .outbound) {
            if case .project(let other) = entry.target, let node = try await context.node(for: other) { outbound.append(node) }
        }
        return JobTokenScopeNode(project: project, inboundProjects: projects, groups: groups, outboundProjects: outbound)
    }

    func inboundAllowlist(context: GraphQLContext, arguments: GraphQLPageArguments) async throws -> GraphQLConnection<AccessibleProjectNode> {
        GraphQLConnection(inboundProjects, arguments)
    }

    func groupsAllowlist(context: GraphQLContext, arguments: GraphQLPageArguments) async throws -> GraphQLConnection<AccessibleGroupNode> {
        GraphQLConnection(groups, arguments)
    }

    func outboundAllowlist(context: GraphQLContext, arguments: GraphQLPageArguments) async throws -> GraphQLConnection<ProjectNode> {
        GraphQLConnection(outboundProjects, arguments)
    }

    var inboundAllowlistCount: Int { inboundProjects.count }
    var groupsAllowlistCount: Int { groups.count }
    var inboundAllowlistAutopopulatedIds: [GraphQLID] { inboundProjects.filter(\.autopopulated).map(\.id) }
    var groupAllowlistAutopopulatedIds: [GraphQLID] { groups.filter(\.autopopulated).map(\.id) }
}

/// What an allowlist entry names: GitLab's `CiJobTokenScopeTarget` union.
protocol ScopeTargetNode: Sendable {}

/// GitLab's `CiJobTokenAccessibleProject`: a project on an inbound allowlist, with what its entry grants.
struct AccessibleProjectNode: ScopeTargetNode {
    let project: Project
    let baseURL: String
    let grant: AllowlistGrant
    let autopopulated: Bool

    var id: GraphQLID { .global("Project", project.id) }
    var name: String { project.name }
    var path: String { project.path }
    var fullPath: String { project.fullPath }
    var webUrl: String { "\(baseURL)/\(project.fullPath)" }
    var avatarUrl: String? { nil }
    var defaultPermissions: Bool { grant.defaultPermissions }
    var jobTokenPolicies: [GraphQLPolicy] { grant.policies.map(\.rawValue).sorted().compactMap(JobTokenPolicy.init).map(GraphQLPolicy.init) }
}

/// GitLab's `CiJobTokenAccessibleGroup`.
struct AccessibleGroupNode: ScopeTargetNode {
    let group: Group
    let baseURL: String
    let grant: AllowlistGrant
    let autopopulated: Bool

    var id: GraphQLID { .global("Group", group.id) }
    var name: String { group.name }
    var path: String { group.path }
    var fullPath: String { group.fullPath }
    var webUrl: String { "\(baseURL)/groups/\(group.fullPath)" }
    var avatarUrl: String? { nil }
    var defaultPermissions: Bool { grant.defaultPermissions }
    var jobTokenPolicies: [GraphQLPolicy] { grant.policies.map(\.rawValue).sorted().compactMap(JobTokenPolicy.init).map(GraphQLPolicy.init) }
}

/// GitLab's `CiJobTokenScopeAllowlistEntry`: one entry and what it grants.
struct AllowlistEntryNode: Sendable {
    let sourceProject: ProjectNode
    let target: (any ScopeTargetNode)?
    let direction: String
    let defaultPermissions: Bool
    let jobTokenPolicies: [GraphQLPolicy]
    let autopopulated: Bool
    let createdAt: GraphQLTime

    init(_ entry: AllowlistEntry, source: ProjectNode, baseURL: String) {
        sourceProject = source
        switch entry.target {
        case .project(let project): target = AccessibleProjectNode(project: project, baseURL: baseURL, grant: entry.grant, autopopulated: entry.autopopulated)
        case .group(let group): target = AccessibleGroupNode(group: group, baseURL: baseURL, grant: entry.grant, autopopulated: entry.autopopulated)
        }
        direction = entry.direction.rawValue
        defaultPermissions = entry.grant.defaultPermissions
        jobTokenPolicies = entry.grant.policies.map(\.rawValue).sorted().compactMap(JobTokenPolicy.init).map(GraphQLPolicy.init)
        autopopulated = entry.autopopulated
        createdAt = GraphQLTime(entry.createdAt)
    }
}
