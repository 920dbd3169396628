import Foundation
import LatchkeyCore
import LatchkeyStore

/// What every GraphQL resolver sees: the server and who is asking (resolved by `GraphQLAuthenticationMiddleware`).
struct GraphQLContext: Sendable {
    let environment: ServerEnvironment
    let actor: Actor

    var store: Store { environment.store }
    var scope: JobTokenScopeService { JobTokenScopeService(environment: environment) }
    var baseURL: String { environment.settings.baseURL }

    /// The project at `fullPath` if the actor may read it; nil when it does not exist or is hidden from the actor.
    func visibleProject(_ fullPath: String) async throws -> ProjectAccessFacts? {
        guard fullPath.contains("/") else { return nil }
        do {
            return try await environment.authorizer.project(fullPath, .readProject, actor: actor)
        } catch is AccessDenied {
            return nil
        }
    }

    /// The project at `fullPath` if the actor may administer its job token scope; GitLab's "resource not available" otherwise.
    func administrableProject(_ fullPath: String) async throws -> Project {
        guard let facts = try await visibleProject(fullPath) else { throw GraphQLResourceNotAvailable() }
        try await requireAdministration(facts)
        return facts.project
    }

    /// Whether the actor may administer the project's job token scope, decided by `AccessPolicy`.
    func mayAdminister(_ facts: ProjectAccessFacts) -> Bool {
        environment.authorizer.allows(actor, .adminJobTokenScope, facts)
    }

    func requireAdministration(_ facts: ProjectAccessFacts) async throws {
        do {
            try await environment.authorizer.authorize(actor, .adminJobTokenScope, facts)
        } catch is AccessDenied {
            throw GraphQLResourceNotAvailable()
        }
    }

    /// Whether the instance enforces "Limit access to this project" everywhere.
    func inboundEnforced() async throws -> Bool {
        try await store.settings.value(JobTokenScopeRepository.enforcementSetting) == "true"
    }
}

/// GitLab's answer when a GraphQL resource does not exist or the actor may not touch it (a top-level error, with a path).
struct GraphQLResourceNotAvailable: Error, CustomStringConvertible {
    var description: String {
        "The resource that you are attempting to access does not exist or you don't have permission to perform this action"
    }
}

/// A failure inside a resolver that must not show its internals (SQL, paths) to the client.
struct GraphQLInternalError: Error, CustomStringConvertible {
    var description: String { "Internal server error" }
}
