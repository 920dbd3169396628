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
        return try await facts(for: project, actor: actor)
    }

    /// The access facts of `project` for `actor`, including its job token scope when a job reaches across projects.
    func facts(for project: Project, actor: Actor) async throws -> ProjectAccessFacts {
        let level = try await memberLevel(of: actor, on: project)
        var facts = ProjectAccessFacts(project: project, memberLevel: level)
        if case .job(let job) = actor, job.project.id != project.id {
            facts.jobTokenScope = try await store.jobTokenScope.facts(source: job.project, target: project)
        }
        return facts
    }

    /// The actor's user's effective level on the project.
    func memberLevel(of actor: Actor, on project: Project) async throws -> AccessLevel? {
        guard let user = actor.user else { return nil }
        return try await store.members.effectiveLevel(userID: user.id, project: project)
    }

    /// The project, if the actor may use `ability` on it; GitLab's refusal otherwise.
    func authorizedProject(_ rawID: String, _ ability: ProjectAbility, actor: Actor) async throws -> ProjectAccessFacts {
        let facts = try await projectFacts(rawID, for: actor)
        try await authorize(actor, ability, facts)
        return facts
    }

    func authorize(_ actor: Actor, _ ability: ProjectAbility, _ facts: ProjectAccessFacts) async throws {
        let decision = AccessPolicy.decide(actor, ability, on: facts)
        if case .job(let job) = actor { await recordJobTokenUse(job, ability, facts.project, decision) }
        if case .denied(let denial) = decision { throw APIError.from(denial) }
    }

    /// Every cross-project job token use lands in the target's authentication log; every refusal, in the job's own trace.
    func recordJobTokenUse(_ job: JobActor, _ ability: ProjectAbility, _ target: Project, _ decision: Decision) async {
        switch decision {
        case .allowed:
            guard job.project.id != target.id else { return }
            try? await store.jobTokenScope.recordAuthorization(accessed: target.id, origin: job.project.id)
        case .denied(let denial):
            let line = JobTokenDenialNotice.line(source: job.project.fullPath, target: target.fullPath, ability: ability, denial: denial)
            do { try traces.appendNotice(jobID: job.job.id, Array(line.utf8)) } catch {
                logger.error("cannot queue a job token refusal for the job's trace", metadata: ["job": "\(job.job.id)", "error": "\(error)"])
            }
            // Shown at once when the trace stands at the end of a line with nothing held back; else after the next line of output.
            if (try? await store.jobs.traceState(jobID: job.job.id))?.held.isEmpty ?? true {
                await traces.flushNoticesBetweenChunks(jobID: job.job.id)
            }
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
