import Foundation
import Hummingbird
import LatchkeyCore
import LatchkeyStore

/// Changes to job token scopes, shared by REST, GraphQL, the web pages and the CLI: checks who may make them, applies
/// them, and writes GitLab's audit events.
struct JobTokenScopeService: Sendable {
    let environment: ServerEnvironment

    private var store: Store { environment.store }

    private func audit(_ name: String, project: Project, actor: Actor, details: [String: String]) async {
        var details = details
        details["project"] = project.fullPath
        try? await store.auditEvents.record(entityID: project.id, authorID: actor.user?.id, eventName: name, details: details)
    }

    func setInbound(_ enabled: Bool, project: Project, by actor: Actor) async throws {
        if !enabled, try await store.settings.value(JobTokenScopeRepository.enforcementSetting) == "true" {
            throw APIError(.badRequest, message: "The instance enforces the job token allowlist for every project: \"Limit access to this project\" cannot be turned off.")
        }
        guard enabled != project.jobTokenInboundEnabled else { return }
        _ = try await store.projects.update(id: project.id, ProjectChanges(jobTokenInboundEnabled: enabled))
        await audit(enabled ? "secure_ci_job_token_inbound_enabled" : "secure_ci_job_token_inbound_disabled", project: project, actor: actor, details: [:])
    }

    func setOutbound(_ enabled: Bool, project: Project, by actor: Actor) async throws {
        guard enabled != project.jobTokenOutboundEnabled else { return }
        _ = try await store.projects.update(id: project.id, ProjectChanges(jobTokenOutboundEnabled: enabled))
        await audit(enabled ? "secure_ci_job_token_outbound_enabled" : "secure_ci_job_token_outbound_disabled", project: project, actor: actor, details: [:])
    }

    func setPushAllowed(_ allowed: Bool, project: Project, by actor: Actor) async throws {
        guard allowed != project.jobTokenPushAllowed else { return }
        _ = try await store.projects.update(id: project.id, ProjectChanges(jobTokenPushAllowed: allowed))
        await audit(allowed ? "secure_ci_job_token_push_enabled" : "secure_ci_job_token_push_disabled", project: project, actor: actor, details: [:])
    }

    /// The project to list, if the actor may name it: it must exist and, unless public, the actor needs a role on it.
    private func listable(_ id: Int64, actor: Actor) async throws -> Project {
        guard let target = try await store.projects.find(id: id) else { throw APIError(.notFound, message: "404 target_project_id not found Not Found") }
        // GitLab's `can?(current_user, :read_project, target)`: an internal project is as listable as a public one to a user.
        let facts = try await environment.authorizer.facts(for: target, actor: actor)
        guard environment.authorizer.allows(actor, .readProject, facts) else {
            throw APIError(.notFound, message: "404 target_project_id not found Not Found")
        }
        return target
    }

    func addProject(
        _ targetID: Int64, to project: Project, grant: AllowlistGrant, by actor: Actor, direction: AllowlistDirection = .inbound, autopopulated: Bool = false
    ) async throws -> Project {
        let target = try await listable(targetID, actor: actor)
        guard target.id != project.id else { throw APIError(.badRequest, message: "Target project can't be the same as the source project") }
        do {
            try await store.jobTokenScope.addProject(target.id, to: project.id, direction: direction, grant: grant, autopopulated: autopopulated, addedBy: actor.user?.id)
        } catch AllowlistError.alreadyListed {
            throw APIError(.badRequest, message: "This project is already in the job token allowlist.")
        } catch AllowlistError.limitReached {
            throw APIError(.badRequest, message: "Source project exceeds the allowable number of project links in this direction")
        }
        await audit("secure_ci_job_token_project_added", project: project, actor: actor, details: ["target": target.fullPath, "direction": direction.rawValue])
        return target
    }

    func removeProject(_ targetID: Int64, from project: Project, by actor: Actor, direction: AllowlistDirection = .inbound) async throws {
        do {
            try await store.jobTokenScope.removeProject(targetID, from: project.id, direction: direction)
        } catch AllowlistError.notListed {
            throw APIError(.notFound, message: "404 Could not find the project in the job token allowlist Not Found")
        }
        let path = try await store.projects.find(id: targetID)?.fullPath ?? String(targetID)
        await audit("secure_ci_job_token_project_removed", project: project, actor: actor, details: ["target": path, "direction": direction.rawValue])
    }

    func addGroup(_ groupID: Int64, to project: Project, grant: AllowlistGrant, by actor: Actor, autopopulated: Bool = false) async throws -> Group {
        guard let group = try await store.namespaces.group(id: groupID) else { throw APIError(.notFound, message: "404 target_group_id not found Not Found") }
        guard try await environment.authorizer.isVisible(group, to: actor) else {
            throw APIError(.notFound, message: "404 target_group_id not found Not Found")
        }
        do {
            try await store.jobTokenScope.addGroup(group.id, to: project.id, grant: grant, autopopulated: autopopulated, addedBy: actor.user?.id)
        } catch AllowlistError.alreadyListed {
            throw APIError(.badRequest, message: "This group is already in the job token allowlist.")
        } catch AllowlistError.limitReached {
            throw APIError(.badRequest, message: "Source project exceeds the allowable number of group links")
        }
        await audit("secure_ci_job_token_group_added", project: project, actor: actor, details: ["target": group.fullPath])
        return group
    }

    func removeGroup(_ groupID: Int64, from project: Project, by actor: Actor) async throws {
        do {
            try await store.jobTokenScope.removeGroup(groupID, from: project.id)
        } catch AllowlistError.notListed {
            throw APIError(.notFound, message: "404 Could not find the group in the job token allowlist Not Found")
        }
        let path = try await store.namespaces.group(id: groupID)?.fullPath ?? String(groupID)
        await audit("secure_ci_job_token_group_removed", project: project, actor: actor, details: ["target": path])
    }

    func updateGrant(_ target: AllowlistTarget, on project: Project, grant: AllowlistGrant, by actor: Actor) async throws {
        do {
            try await store.jobTokenScope.updateGrant(project: project.id, target: target, grant: grant)
        } catch AllowlistError.notListed {
            throw APIError(.notFound, message: "404 \(target.fullPath) is not in the job token allowlist Not Found")
        }
        await audit(
            "secure_ci_job_token_policies_updated", project: project, actor: actor,
            details: ["target": target.fullPath, "default_permissions": String(grant.defaultPermissions), "job_token_policies": grant.policies.map(\.rawValue).sorted().joined(separator: ",")])
    }

    /// Adds every project in the authentication log to the allowlist; past the project limit, their top-level groups instead.
    func autopopulate(_ project: Project, by actor: Actor) async throws -> (projects: [String], groups: [String]) {
        let existing = try await store.jobTokenScope.entries(project: project.id, direction: .inbound)
        let listedProjects = Set(existing.compactMap { entry -> Int64? in if case .project(let p) = entry.target { return p.id } else { return nil } })
        let origins = try await store.jobTokenScope.authorizations(accessed: project.id).map(\.originProject).filter { !listedProjects.contains($0.id) && $0.id != project.id }
        if listedProjects.count + origins.count <= AllowlistLimits.projects {
            var added: [String] = []
            for origin in origins {
                try await store.jobTokenScope.addProject(origin.id, to: project.id, direction: .inbound, autopopulated: true, addedBy: actor.user?.id)
                added.append(origin.fullPath)
            }
            if !added.isEmpty { await audit("secure_ci_job_token_project_added", project: project, actor: actor, details: ["autopopulated": added.joined(separator: ",")]) }
            return (added, [])
        }
        // Too many projects: compact to the groups at the top of their namespaces (personal projects stay project entries).
        var groups: [String: Group] = [:]
        var projects: [Project] = []
        for origin in origins {
            if origin.namespace.kind == .group, let top = try await store.namespaces.groupChain(fullPath: origin.namespace.fullPath).last {
                groups[top.fullPath] = top
            } else {
                projects.append(origin)
            }
        }
        let listedGroups = Set(existing.compactMap { entry -> Int64? in if case .group(let g) = entry.target { return g.id } else { return nil } })
        var addedGroups: [String] = []
        for group in groups.values.sorted(by: { $0.fullPath < $1.fullPath }) where !listedGroups.contains(group.id) {
            try await store.jobTokenScope.addGroup(group.id, to: project.id, autopopulated: true, addedBy: actor.user?.id)
            addedGroups.append(group.fullPath)
        }
        var addedProjects: [String] = []
        for origin in projects.prefix(max(0, AllowlistLimits.projects - listedProjects.count)) {
            try await store.jobTokenScope.addProject(origin.id, to: project.id, direction: .inbound, autopopulated: true, addedBy: actor.user?.id)
            addedProjects.append(origin.fullPath)
        }
        await audit("secure_ci_job_token_group_added", project: project, actor: actor, details: ["autopopulated": addedGroups.joined(separator: ",")])
        return (addedProjects, addedGroups)
    }
}
