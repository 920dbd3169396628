import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

// Thin forwarders to `Authorizer` for the callers not yet migrated; each answers a refusal as the REST `APIError` it always did.
// New code asks `environment.authorizer` (or takes an `Authorizer`) directly.
extension ServerEnvironment {
    private func rest<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let denied as AccessDenied { throw APIError.from(denied) }
    }

    func projectFacts(_ rawID: String, for actor: Actor) async throws -> ProjectAccessFacts {
        try await rest { try await authorizer.project(rawID, for: actor) }
    }

    func facts(for project: Project, actor: Actor) async throws -> ProjectAccessFacts {
        try await authorizer.facts(for: project, actor: actor)
    }

    func memberLevel(of actor: Actor, on project: Project) async throws -> AccessLevel? {
        try await authorizer.memberLevel(of: actor, on: project)
    }

    func authorizedProject(_ rawID: String, _ ability: ProjectAbility, actor: Actor) async throws -> ProjectAccessFacts {
        try await rest { try await authorizer.project(rawID, ability, actor: actor) }
    }

    func authorize(_ actor: Actor, _ ability: ProjectAbility, _ facts: ProjectAccessFacts) async throws {
        try await rest { try await authorizer.authorize(actor, ability, facts) }
    }

    func recordJobTokenUse(_ job: JobActor, _ ability: ProjectAbility, _ target: Project, _ decision: Decision) async {
        await authorizer.recordJobTokenUse(job, ability, target, decision)
    }

    func groupFacts(_ rawID: String, for actor: Actor) async throws -> GroupAccessFacts {
        try await rest { try await authorizer.group(rawID, for: actor) }
    }

    func authorizedGroup(_ rawID: String, _ ability: GroupAbility, actor: Actor) async throws -> GroupAccessFacts {
        try await rest { try await authorizer.group(rawID, ability, actor: actor) }
    }

    func projectViewer(_ actor: Actor) async throws -> ProjectFilter.Viewer {
        try await authorizer.projectViewer(actor)
    }
}
