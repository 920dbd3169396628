import Foundation
import LatchkeyCore
import SQLKit

/// Why an allowlist change was refused.
public enum AllowlistError: Error, Sendable, Equatable {
    case alreadyListed
    case limitReached
    case notListed
}

struct ProjectLinkRecord: Codable, Sendable {
    var sourceProjectId: Int64
    var targetProjectId: Int64
    var direction: String
    var defaultPermissions: Bool
    var jobTokenPolicies: String
    var autopopulated: Bool
    var addedById: Int64?
    var createdAt: Int64
}

struct GroupLinkRecord: Codable, Sendable {
    var sourceProjectId: Int64
    var targetGroupId: Int64
    var defaultPermissions: Bool
    var jobTokenPolicies: String
    var autopopulated: Bool
    var addedById: Int64?
    var createdAt: Int64
}

extension AllowlistGrant {
    init(defaultPermissions: Bool, stored: String) {
        self.init(defaultPermissions: defaultPermissions, policies: Set(stored.split(separator: ",").compactMap { JobTokenPolicy(rawValue: String($0)) }))
    }

    var stored: String { policies.map(\.rawValue).sorted().joined(separator: ",") }
}

/// Job token allowlists (inbound and the legacy outbound), the authentication log, and what the policy needs from them.
public struct JobTokenScopeRepository: Sendable {
    let database: Database

    public static let enforcementSetting = "job_token_allowlist_enforced"

    /// How `target`'s scope treats jobs of `source` (for `AccessPolicy`).
    public func facts(source: Project, target: Project) async throws -> JobTokenScopeFacts {
        let enforced = try await SettingsRepository(database: database).value(Self.enforcementSetting) == "true"
        return try await database.read { db in
            var grants: [AllowlistGrant] = []
            if let link = try await db.select().column("*").from("job_token_project_links")
                .where("source_project_id", .equal, target.id).where("target_project_id", .equal, source.id).where("direction", .equal, AllowlistDirection.inbound.rawValue)
                .record(ProjectLinkRecord.self)
            {
                grants.append(AllowlistGrant(defaultPermissions: link.defaultPermissions, stored: link.jobTokenPolicies))
            }
            if source.namespace.kind == .group {
                let groups = try await db.select().column("id").from("namespaces").where("kind", .equal, "group")
                    .where("full_path", .in, NamespaceRepository.pathPrefixes(source.namespace.fullPath))
                    .all().map { try $0.decode(column: "id", as: Int64.self) }
                if !groups.isEmpty {
                    let links = try await db.select().column("*").from("job_token_group_links").where("source_project_id", .equal, target.id)
                        .where("target_group_id", .in, groups).records(GroupLinkRecord.self)
                    grants += links.map { AllowlistGrant(defaultPermissions: $0.defaultPermissions, stored: $0.jobTokenPolicies) }
                }
            }
            // Several entries may admit the same project; together they grant what any of them grants.
            let grant: AllowlistGrant? = grants.isEmpty ? nil : grants.reduce(AllowlistGrant(defaultPermissions: false)) { merged, next in
                AllowlistGrant(defaultPermissions: merged.defaultPermissions || next.defaultPermissions, policies: merged.policies.union(next.policies))
            }
            var outboundAllows = true
            if source.jobTokenOutboundEnabled {
                outboundAllows = try await db.select().column("id").from("job_token_project_links")
                    .where("source_project_id", .equal, source.id).where("target_project_id", .equal, target.id).where("direction", .equal, AllowlistDirection.outbound.rawValue)
                    .first() != nil
            }
            return JobTokenScopeFacts(inboundEnabled: target.jobTokenInboundEnabled || enforced, grant: grant, outboundAllows: outboundAllows)
        }
    }

    /// Adds `target` to `project`'s list.
    public func addProject(
        _ target: Int64, to project: Int64, direction: AllowlistDirection, grant: AllowlistGrant = AllowlistGrant(), autopopulated: Bool = false, addedBy: Int64?
    ) async throws {
        try await database.transaction { db in
                let count = try await db.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("job_token_project_links")
                    .where("source_project_id", .equal, project).where("direction", .equal, direction.rawValue).first()?.decode(column: "n", as: Int.self) ?? 0
                guard count < AllowlistLimits.projects else { throw AllowlistError.limitReached }
                do {
                    try await db.insert(into: "job_token_project_links")
                        .columns("source_project_id", "target_project_id", "direction", "default_permissions", "job_token_policies", "autopopulated", "added_by_id", "created_at")
                        .values(
                            SQLBind(project), SQLBind(target), SQLBind(direction.rawValue), SQLBind(grant.defaultPermissions), SQLBind(grant.stored), SQLBind(autopopulated),
                            SQLBind(addedBy), SQLBind(Date().milliseconds)
                        ).run()
                } catch where error.isUniqueViolation {
                    throw AllowlistError.alreadyListed
                }
        }
    }

    public func addGroup(_ group: Int64, to project: Int64, grant: AllowlistGrant = AllowlistGrant(), autopopulated: Bool = false, addedBy: Int64?) async throws {
        try await database.transaction { db in
            let count = try await db.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("job_token_group_links")
                .where("source_project_id", .equal, project).first()?.decode(column: "n", as: Int.self) ?? 0
            guard count < AllowlistLimits.groups else { throw AllowlistError.limitReached }
            do {
                try await db.insert(into: "job_token_group_links")
                    .columns("source_project_id", "target_group_id", "default_permissions", "job_token_policies", "autopopulated", "added_by_id", "created_at")
                    .values(
                        SQLBind(project), SQLBind(group), SQLBind(grant.defaultPermissions), SQLBind(grant.stored), SQLBind(autopopulated), SQLBind(addedBy),
                        SQLBind(Date().milliseconds)
                    ).run()
            } catch where error.isUniqueViolation {
                throw AllowlistError.alreadyListed
            }
        }
    }

    public func removeProject(_ target: Int64, from project: Int64, direction: AllowlistDirection) async throws {
        try await database.read { db in
            guard
                try await db.delete(from: "job_token_project_links").where("source_project_id", .equal, project).where("target_project_id", .equal, target)
                    .where("direction", .equal, direction.rawValue).returning("id").first() != nil
            else { throw AllowlistError.notListed }
        }
    }

    public func removeGroup(_ group: Int64, from project: Int64) async throws {
        try await database.read { db in
            guard
                try await db.delete(from: "job_token_group_links").where("source_project_id", .equal, project).where("target_group_id", .equal, group)
                    .returning("id").first() != nil
            else { throw AllowlistError.notListed }
        }
    }

    /// Replaces an entry's fine-grained permissions.
    public func updateGrant(project: Int64, target: AllowlistTarget, grant: AllowlistGrant) async throws {
        try await database.read { db in
            let updated: SQLRow?
            switch target {
            case .project(let other):
                updated = try await db.update("job_token_project_links").set("default_permissions", to: grant.defaultPermissions).set("job_token_policies", to: grant.stored)
                    .where("source_project_id", .equal, project).where("target_project_id", .equal, other.id).where("direction", .equal, AllowlistDirection.inbound.rawValue)
                    .returning("id").first()
            case .group(let group):
                updated = try await db.update("job_token_group_links").set("default_permissions", to: grant.defaultPermissions).set("job_token_policies", to: grant.stored)
                    .where("source_project_id", .equal, project).where("target_group_id", .equal, group.id).returning("id").first()
            }
            guard updated != nil else { throw AllowlistError.notListed }
        }
    }

    /// The project's entries of one direction, oldest first, with their projects and groups.
    public func entries(project: Int64, direction: AllowlistDirection) async throws -> [AllowlistEntry] {
        let (projectLinks, groupLinks) = try await database.read { db in
            let projects = try await db.select().column("*").from("job_token_project_links").where("source_project_id", .equal, project)
                .where("direction", .equal, direction.rawValue).orderBy("id").records(ProjectLinkRecord.self)
            let groups = direction == .inbound
                ? try await db.select().column("*").from("job_token_group_links").where("source_project_id", .equal, project).orderBy("id").records(GroupLinkRecord.self)
                : []
            return (projects, groups)
        }
        var entries: [AllowlistEntry] = []
        let projects = ProjectRepository(database: database)
        for link in projectLinks {
            guard let target = try await projects.find(id: link.targetProjectId) else { continue }
            entries.append(AllowlistEntry(
                sourceProjectID: project, target: .project(target), direction: direction,
                grant: AllowlistGrant(defaultPermissions: link.defaultPermissions, stored: link.jobTokenPolicies), autopopulated: link.autopopulated,
                addedByID: link.addedById, createdAt: Date(milliseconds: link.createdAt)))
        }
        let namespaces = NamespaceRepository(database: database)
        for link in groupLinks {
            guard let group = try await namespaces.group(id: link.targetGroupId) else { continue }
            entries.append(AllowlistEntry(
                sourceProjectID: project, target: .group(group), direction: .inbound,
                grant: AllowlistGrant(defaultPermissions: link.defaultPermissions, stored: link.jobTokenPolicies), autopopulated: link.autopopulated,
                addedByID: link.addedById, createdAt: Date(milliseconds: link.createdAt)))
        }
        return entries
    }

    // MARK: Authentication log

    /// Notes that a job of `origin` was let into `accessed` now (one row per pair, its time updated at most once a minute).
    public func recordAuthorization(accessed: Int64, origin: Int64, at date: Date = Date()) async throws {
        // The log shows when a project last reached in, to the minute at best: a pair recorded within the last minute needs no
        // write, so a job reading across projects in a loop does not queue every request behind the writer.
        let recent = try await database.read { db in
            try await db.select().column("accessed_project_id").from("job_token_auth_logs")
                .where("accessed_project_id", .equal, accessed).where("origin_project_id", .equal, origin)
                .where("last_authorized_at", .greaterThanOrEqual, date.milliseconds - 60_000).where("last_authorized_at", .lessThanOrEqual, date.milliseconds)
                .first()
        }
        guard recent == nil else { return }
        try await database.write { db in
            try await db.insert(into: "job_token_auth_logs").columns("accessed_project_id", "origin_project_id", "last_authorized_at")
                .values(SQLBind(accessed), SQLBind(origin), SQLBind(date.milliseconds))
                .onConflict(with: ["accessed_project_id", "origin_project_id"]) { $0.set(excludedValueOf: "last_authorized_at") }
                .run()
        }
    }

    public func authorizations(accessed: Int64) async throws -> [JobTokenAuthorization] {
        let rows: [(Int64, Int64)] = try await database.read { db in
            try await db.select().column("origin_project_id").column("last_authorized_at").from("job_token_auth_logs")
                .where("accessed_project_id", .equal, accessed).orderBy("last_authorized_at", .descending)
                .all().map { (try $0.decode(column: "origin_project_id", as: Int64.self), try $0.decode(column: "last_authorized_at", as: Int64.self)) }
        }
        let projects = ProjectRepository(database: database)
        var result: [JobTokenAuthorization] = []
        for (origin, at) in rows {
            if let project = try await projects.find(id: origin) { result.append(JobTokenAuthorization(originProject: project, lastAuthorizedAt: Date(milliseconds: at))) }
        }
        return result
    }
}

/// Audit events.
public struct AuditEventRepository: Sendable {
    let database: Database

    public func record(entityType: String = "Project", entityID: Int64, authorID: Int64?, eventName: String, details: [String: String]) async throws {
        try await database.read { db in
            try await db.insert(into: "audit_events").columns("entity_type", "entity_id", "author_id", "event_name", "details", "created_at")
                .values(SQLBind(entityType), SQLBind(entityID), SQLBind(authorID), SQLBind(eventName), SQLBind(JSONCoding.encode(details)), SQLBind(Date().milliseconds))
                .run()
        }
    }

    public func list(entityType: String = "Project", entityID: Int64, page: PageRequest) async throws -> Page<AuditEvent> {
        try await database.read { db in
            let query = db.select().column("*").from("audit_events").where("entity_type", .equal, entityType).where("entity_id", .equal, entityID)
                .orderBy("id", .descending)
            let records = try await query.page(page, as: AuditEventRecord.self, countOn: db)
            return records.map(\.event)
        }
    }
}

struct AuditEventRecord: Codable, Sendable {
    var id: Int64
    var entityType: String
    var entityId: Int64
    var authorId: Int64?
    var eventName: String
    var details: String
    var createdAt: Int64

    var event: AuditEvent {
        AuditEvent(
            id: id, entityType: entityType, entityID: entityId, authorID: authorId, eventName: eventName,
            details: JSONCoding.decode([String: String].self, from: details) ?? [:], createdAt: Date(milliseconds: createdAt))
    }
}
