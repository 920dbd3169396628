import Foundation
import LatchkeyCore
import SQLKit

extension ProjectRepository {
    /// Migration 11: what API reads need to know of a project's repository, recorded when a push lands instead of asked of `git`.
    static func addRepositoryMetadata(_ db: any SQLDatabase, _ kind: DatabaseKind) async throws {
        // NULL until first recorded: projects from before this migration are looked at once, then kept.
        try await db.alter(table: "projects").column("repository_empty", type: Schema.boolean).run()
        try await db.alter(table: "projects").column("repository_head_sha", type: .text).run()
    }

    /// Records whether the project's repository has branches and where its default branch points, as the repository says now.
    public func recordRepository(id: Int64, empty: Bool, headSHA: String?) async throws {
        try await database.write { db in
            try await db.update("projects").set("repository_empty", to: empty).set("repository_head_sha", to: headSHA)
                .where("id", .equal, id).run()
        }
    }
}
