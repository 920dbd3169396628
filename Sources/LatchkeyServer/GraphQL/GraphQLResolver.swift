import Foundation
import Graphiti
import LatchkeyCore

/// The root of Latchkey's GraphQL API: `project(fullPath:)` and the job token scope mutations. Every access decision goes
/// through `AccessPolicy` (via `GraphQLContext`) and every change through `JobTokenScopeService`, as REST does.
struct GraphQLResolver: Sendable {
    struct ProjectArguments: Codable, Sendable {
        var fullPath: GraphQLID
    }

    /// Null for a project that does not exist or that the actor may not see (GitLab answers the same).
    func project(context: GraphQLContext, arguments: ProjectArguments) async throws -> ProjectNode? {
        guard let facts = try await context.visibleProject(arguments.fullPath.value) else { return nil }
        return ProjectNode(facts: facts, baseURL: context.baseURL)
    }

    /// The user the credential acts as; null for an anonymous request.
    func currentUser(context: GraphQLContext, arguments: NoArguments) async throws -> UserNode? {
        context.actor.user.map { UserNode(user: $0, baseURL: context.baseURL) }
    }

    // MARK: Mutations

    func addProject(context: GraphQLContext, arguments: MutationArguments<AddProjectInput>) async throws -> ScopeMutationPayload<AddProjectInput>? {
        let input = arguments.input
        let project = try await context.administrableProject(input.projectPath.value)
        let errors = try await GraphQLMutationErrors.collect(notFound: GraphQLMutationErrors.targetProjectUnavailable) {
            guard let target = try await context.store.projects.find(fullPath: input.targetProjectPath.value) else {
                throw GraphQLMutationErrors.Failure(GraphQLMutationErrors.targetProjectUnavailable)
            }
            _ = try await context.scope.addProject(
                target.id, to: project, grant: AllowlistGrant(), by: context.actor, direction: (input.direction ?? .inbound).direction)
        }
        return try await ScopeMutationPayload(input.clientMutationId, errors: errors, project: project, context: context)
    }

    func addGroupOrProject(
        context: GraphQLContext, arguments: MutationArguments<AddGroupOrProjectInput>
    ) async throws -> ScopeMutationPayload<AddGroupOrProjectInput>? {
        let input = arguments.input
        let project = try await context.administrableProject(input.projectPath.value)
        let policies = Set((input.jobTokenPolicies ?? []).compactMap(\.policy))
        let grant = AllowlistGrant(defaultPermissions: input.defaultPermissions ?? policies.isEmpty, policies: policies)
        let group = try await context.store.namespaces.group(fullPath: input.targetPath.value)
        let target = group == nil ? try await context.store.projects.find(fullPath: input.targetPath.value) : nil
        let notFound = group != nil ? GraphQLMutationErrors.targetGroupUnavailable : GraphQLMutationErrors.targetProjectUnavailable
        let errors = try await GraphQLMutationErrors.collect(notFound: notFound) {
            if let group {
                _ = try await context.scope.addGroup(group.id, to: project, grant: grant, by: context.actor)
            } else if let target {
                _ = try await context.scope.addProject(target.id, to: project, grant: grant, by: context.actor)
            } else {
                throw GraphQLMutationErrors.Failure(GraphQLMutationErrors.targetDoesNotExist)
            }
        }
        return try await ScopeMutationPayload(input.clientMutationId, errors: errors, project: project, context: context)
    }

    func removeProject(
        context: GraphQLContext, arguments: MutationArguments<RemoveProjectInput>
    ) async throws -> ScopeMutationPayload<RemoveProjectInput>? {
        let input = arguments.input
        let project = try await context.administrableProject(input.projectPath.value)
        let errors = try await GraphQLMutationErrors.collect(notFound: "Target project is not in the job token scope") {
            guard let target = try await context.visibleProject(input.targetProjectPath.value) else {
                throw GraphQLMutationErrors.Failure(GraphQLMutationErrors.targetProjectUnavailable)
            }
            try await context.scope.removeProject(target.project.id, from: project, by: context.actor, direction: (input.direction ?? .inbound).direction)
        }
        return try await ScopeMutationPayload(input.clientMutationId, errors: errors, project: project, context: context)
    }

    func removeGroup(context: GraphQLContext, arguments: MutationArguments<RemoveGroupInput>) async throws -> ScopeMutationPayload<RemoveGroupInput>? {
        let input = arguments.input
        let project = try await context.administrableProject(input.projectPath.value)
        let errors = try await GraphQLMutationErrors.collect(notFound: "Target group is not in the job token scope") {
            guard let group = try await context.store.namespaces.group(fullPath: input.targetGroupPath.value) else {
                throw GraphQLMutationErrors.Failure(GraphQLMutationErrors.targetGroupUnavailable)
            }
            try await context.scope.removeGroup(group.id, from: project, by: context.actor)
        }
        return try await ScopeMutationPayload(input.clientMutationId, errors: errors, project: project, context: context)
    }

    func updatePolicies(context: GraphQLContext, arguments: MutationArguments<UpdatePoliciesInput>) async throws -> UpdatePoliciesPayload? {
        let input = arguments.input
        let project = try await context.administrableProject(input.projectPath.value)
        let grant = AllowlistGrant(defaultPermissions: input.defaultPermissions, policies: Set(input.jobTokenPolicies.compactMap(\.policy)))
        let target: AllowlistTarget? =
            if let group = try await context.store.namespaces.group(fullPath: input.targetPath.value) {
                .group(group)
            } else if let other = try await context.store.projects.find(fullPath: input.targetPath.value) {
                .project(other)
            } else {
                nil
            }
        let errors = try await GraphQLMutationErrors.collect(notFound: "The group or project is not in the job token scope") {
            guard let target else { throw GraphQLMutationErrors.Failure(GraphQLMutationErrors.targetDoesNotExist) }
            try await context.scope.updateGrant(target, on: project, grant: grant, by: context.actor)
        }
        var entry: AllowlistEntryNode?
        if errors.isEmpty, let target, let source = try await context.visibleProject(project.fullPath) {
            let entries = try await context.store.jobTokenScope.entries(project: project.id, direction: .inbound)
            entry = entries.first { $0.target.fullPath == target.fullPath }.map {
                AllowlistEntryNode($0, source: ProjectNode(facts: source, baseURL: context.baseURL), baseURL: context.baseURL)
            }
        }
        return UpdatePoliciesPayload(clientMutationId: input.clientMutationId, errors: errors, ciJobTokenScopeAllowlistEntry: entry)
    }

    func updateCiCdSettings(context: GraphQLContext, arguments: MutationArguments<CiCdSettingsUpdateInput>) async throws -> CiCdSettingsUpdatePayload? {
        let input = arguments.input
        let project = try await context.administrableProject(input.fullPath.value)
        let errors = try await GraphQLMutationErrors.collect(notFound: GraphQLResourceNotAvailable().description) {
            if let enabled = input.inboundJobTokenScopeEnabled { try await context.scope.setInbound(enabled, project: project, by: context.actor) }
            if let enabled = input.jobTokenScopeEnabled { try await context.scope.setOutbound(enabled, project: project, by: context.actor) }
            if let allowed = input.pushRepositoryForJobTokenAllowed { try await context.scope.setPushAllowed(allowed, project: project, by: context.actor) }
        }
        var settings: CiCdSettingsNode?
        if let facts = try await context.visibleProject(project.fullPath) {
            settings = CiCdSettingsNode(project: ProjectNode(facts: facts, baseURL: context.baseURL), inboundEnforced: try await context.inboundEnforced())
        }
        return CiCdSettingsUpdatePayload(clientMutationId: input.clientMutationId, errors: errors, ciCdSettings: settings)
    }
}

/// Mutation failures as GitLab words them in a payload's `errors`.
enum GraphQLMutationErrors {
    static let targetProjectUnavailable =
        "The target_project that you are attempting to access does not exist or you don't have permission to perform this action"
    static let targetGroupUnavailable =
        "The target_group that you are attempting to access does not exist or you don't have permission to perform this action"
    static let targetDoesNotExist = "The group or project does not exist."

    /// A refusal with the text the payload should carry.
    struct Failure: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    /// Runs a change and returns the payload's `errors`: empty on success, the refusal's words otherwise. A 404 from the
    /// service becomes `notFound` (GraphQL names targets by path, so REST's "404 ... Not Found" texts do not fit).
    static func collect(notFound: String, _ change: () async throws -> Void) async throws -> [String] {
        do {
            try await change()
            return []
        } catch let failure as Failure {
            return [failure.message]
        } catch let error as APIError {
            return [error.status == .notFound ? notFound : error.plainMessage]
        } catch {
            throw GraphQLInternalError()
        }
    }
}

/// `input:` of every mutation.
struct MutationArguments<Input: Codable & Sendable>: Codable, Sendable {
    var input: Input
}

struct AddProjectInput: Codable, Sendable {
    var clientMutationId: String?
    var projectPath: GraphQLID
    var targetProjectPath: GraphQLID
    var direction: GraphQLDirection?
}

struct AddGroupOrProjectInput: Codable, Sendable {
    var clientMutationId: String?
    var projectPath: GraphQLID
    var targetPath: GraphQLID
    var defaultPermissions: Bool?
    var jobTokenPolicies: [GraphQLPolicy]?
}

struct RemoveProjectInput: Codable, Sendable {
    var clientMutationId: String?
    var projectPath: GraphQLID
    var targetProjectPath: GraphQLID
    var direction: GraphQLDirection?
}

struct RemoveGroupInput: Codable, Sendable {
    var clientMutationId: String?
    var projectPath: GraphQLID
    var targetGroupPath: GraphQLID
}

struct UpdatePoliciesInput: Codable, Sendable {
    var clientMutationId: String?
    var projectPath: GraphQLID
    var targetPath: GraphQLID
    var defaultPermissions: Bool
    var jobTokenPolicies: [GraphQLPolicy]
}

struct CiCdSettingsUpdateInput: Codable, Sendable {
    var clientMutationId: String?
    var fullPath: GraphQLID
    var inboundJobTokenScopeEnabled: Bool?
    var jobTokenScopeEnabled: Bool?
    var pushRepositoryForJobTokenAllowed: Bool?
}

/// The payload of the scope mutations that answer with the whole scope; `Input` only tells the GraphQL types apart.
struct ScopeMutationPayload<Input>: Sendable {
    var clientMutationId: String?
    var errors: [String]
    var ciJobTokenScope: JobTokenScopeNode?

    init(_ clientMutationId: String?, errors: [String], project: Project, context: GraphQLContext) async throws {
        self.clientMutationId = clientMutationId
        self.errors = errors
        // GitLab answers the scope only on success.
        if errors.isEmpty, let facts = try await context.visibleProject(project.fullPath) {
            ciJobTokenScope = try await JobTokenScopeNode.load(ProjectNode(facts: facts, baseURL: context.baseURL), context: context)
        }
    }
}

struct UpdatePoliciesPayload: Sendable {
    var clientMutationId: String?
    var errors: [String]
    var ciJobTokenScopeAllowlistEntry: AllowlistEntryNode?
}

struct CiCdSettingsUpdatePayload: Sendable {
    var clientMutationId: String?
    var errors: [String]
    var ciCdSettings: CiCdSettingsNode?
}
