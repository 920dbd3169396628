import Foundation
import LatchkeyCore
import SQLKit

extension ProjectRepository {
    /// Migration 14: a project's ceiling over its jobs' `permissions:`, in the text form (`repository: read, packages: write`);
    /// NULL when the project sets none.
    static func addJobTokenPermissionsCeiling(_ db: any SQLDatabase, _ kind: DatabaseKind) async throws {
        try await db.alter(table: "projects").column("job_token_permissions_ceiling", type: .text).run()
    }

    /// The ceiling a stored text names; a text that no longer reads (never written by this code) grants nothing rather than all.
    static func ceiling(stored: String?) -> JobTokenPermissions? {
        guard let stored else { return nil }
        return (try? JobTokenPermissions.parse(text: stored).get()) ?? JobTokenPermissions.nothing
    }

    /// Sets (or, with nil, removes) the project's job token permissions ceiling.
    public func setJobTokenPermissionsCeiling(id: Int64, _ ceiling: JobTokenPermissions?) async throws -> Project {
        try await database.write { db in
            try await db.update("projects").set("job_token_permissions_ceiling", to: ceiling?.description).where("id", .equal, id).run()
        }
        guard let project = try await find(id: id) else { throw StoreError.notFound }
        return project
    }
}

extension SettingsRepository {
    /// The settings key of the instance's job token permissions ceiling.
    public static let jobTokenPermissionsCeilingKey = "ci_job_token_permissions_ceiling"

    /// The instance's ceiling over every job's `permissions:`; nil when it sets none.
    public func jobTokenPermissionsCeiling() async throws -> JobTokenPermissions? {
        ProjectRepository.ceiling(stored: try await value(Self.jobTokenPermissionsCeilingKey).flatMap { $0.isEmpty ? nil : $0 })
    }

    /// Sets (or, with nil, removes) the instance's ceiling.
    public func setJobTokenPermissionsCeiling(_ ceiling: JobTokenPermissions?) async throws {
        try await set(Self.jobTokenPermissionsCeilingKey, to: ceiling?.description ?? "")
    }
}
