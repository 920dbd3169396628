import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

extension ServerEnvironment {
    /// The project named by a route's `:id` (a number or a URL-encoded full path), as the actor's access facts.
    func projectFacts(_ rawID: String, for actor: Actor) async throws -> ProjectAccessFacts {
        let id = rawID.removingPercentEncoding ?? rawID
        let project: Project? =
            if let number = Int64(id) { try await store.projects.find(id: number) } else { try await store.projects.find(fullPath: id) }
        guard let project else { throw APIError.notFound("Project") }
        let level = try await memberLevel(of: actor, on: project)
        return ProjectAccessFacts(project: project, memberLevel: level)
    }

    /// The actor's user's effective level on the project.
    func memberLevel(of actor: Actor, on project: Project) async throws -> AccessLevel? {
        guard let user = actor.user else { return nil }
        return try await store.members.effectiveLevel(userID: user.id, project: project)
    }

    /// The project, if the actor may use `ability` on it; GitLab's refusal otherwise.
    func authorizedProject(_ rawID: String, _ ability: ProjectAbility, actor: Actor) async throws -> ProjectAccessFacts {
        let facts = try await projectFacts(rawID, for: actor)
        try authorize(actor, ability, facts)
        return facts
    }

    func authorize(_ actor: Actor, _ ability: ProjectAbility, _ facts: ProjectAccessFacts) throws {
        if case .denied(let denial) = AccessPolicy.decide(actor, ability, on: facts) {
            // A read the actor may not make on a project it can see is still hidden, as GitLab does for private features.
            throw APIError.from(denial)
        }
    }

    /// The group named by `:id` with the actor's facts.
    func groupFacts(_ rawID: String, for actor: Actor) async throws -> GroupAccessFacts {
        let id = rawID.removingPercentEncoding ?? rawID
        let group: Group? =
            if let number = Int64(id) { try await store.namespaces.group(id: number) } else { try await store.namespaces.group(fullPath: id) }
        guard let group else { throw APIError.notFound("Group") }
        var level: AccessLevel?
        if let user = actor.user { level = try await store.members.effectiveLevel(userID: user.id, groupFullPath: group.fullPath) }
        var facts = GroupAccessFacts(group: group, memberLevel: level)
        if level == nil, group.visibility == .private, case .denied = AccessPolicy.decide(actor, .readGroup, on: facts) {
            facts.hasVisibleDescendant = try await hasVisibleProject(under: group, actor: actor)
        }
        return facts
    }

    func authorizedGroup(_ rawID: String, _ ability: GroupAbility, actor: Actor) async throws -> GroupAccessFacts {
        let facts = try await groupFacts(rawID, for: actor)
        if case .denied(let denial) = AccessPolicy.decide(actor, ability, on: facts) { throw APIError.from(denial, resource: "Group") }
        return facts
    }

    private func hasVisibleProject(under group: Group, actor: Actor) async throws -> Bool {
        guard let user = actor.user else { return false }
        for project in try await store.projects.projects(underNamespacePath: group.fullPath) {
            if try await store.members.effectiveLevel(userID: user.id, project: project) != nil { return true }
        }
        return false
    }

    /// The listing filter for what the actor may see.
    func projectViewer(_ actor: Actor) async throws -> ProjectFilter.Viewer {
        guard let user = actor.user else { return .anonymous }
        if user.isAdmin { return .admin }
        return .user(id: user.id, groupPaths: try await store.members.groupPaths(userID: user.id))
    }
}
