import Foundation
import LatchkeyCore
import SQLKit

/// A release: a named, described tag of a project.
public struct Release: Sendable, Equatable {
    public var id: Int64
    public var projectID: Int64
    public var tagName: String
    public var name: String
    public var description: String
    /// The commit the tag pointed at when the release was made.
    public var sha: String
    public var authorID: Int64?
    public var releasedAt: Date
    public var createdAt: Date
}

struct ReleaseRecord: Codable, Sendable {
    var id: Int64
    var projectId: Int64
    var tagName: String
    var name: String
    var description: String
    var sha: String
    var authorId: Int64?
    var releasedAt: Int64
    var createdAt: Int64

    var release: Release {
        Release(
            id: id, projectID: projectId, tagName: tagName, name: name, description: description, sha: sha, authorID: authorId,
            releasedAt: Date(milliseconds: releasedAt), createdAt: Date(milliseconds: createdAt))
    }
}

/// Releases, one per tag of a project.
public struct ReleaseRepository: Sendable {
    let database: Database

    /// Stores a release; `StoreError.duplicate` when the tag already has one.
    public func create(projectID: Int64, tagName: String, name: String, description: String, sha: String, authorID: Int64?, releasedAt: Date) async throws -> Release {
        try await database.read { db in
            do {
                guard
                    let record = try await db.insert(into: "releases")
                        .columns("project_id", "tag_name", "name", "description", "sha", "author_id", "released_at", "created_at")
                        .values(
                            SQLBind(projectID), SQLBind(tagName), SQLBind(name), SQLBind(description), SQLBind(sha), SQLBind(authorID),
                            SQLBind(releasedAt.milliseconds), SQLBind(Date().milliseconds)
                        )
                        .returning("*").first()?.record(ReleaseRecord.self)
                else { throw StoreError.corrupt("release insert") }
                return record.release
            } catch where error.isUniqueViolation {
                throw StoreError.duplicate("Release")
            }
        }
    }

    public func find(projectID: Int64, tagName: String) async throws -> Release? {
        try await database.read { db in
            try await db.select().column("*").from("releases").where("project_id", .equal, projectID).where("tag_name", .equal, tagName).record(ReleaseRecord.self)?
                .release
        }
    }

    /// Releases by `released_at` (GitLab's default order), newest first unless asked otherwise.
    public func list(projectID: Int64, orderBy: String = "released_at", ascending: Bool = false, page: PageRequest) async throws -> Page<Release> {
        try await database.read { db in
            let column = orderBy == "created_at" ? "created_at" : "released_at"
            return try await db.select().column("*").from("releases").where("project_id", .equal, projectID)
                .orderBy(column, ascending ? .ascending : .descending).orderBy("id", ascending ? .ascending : .descending)
                .page(page, as: ReleaseRecord.self, countOn: db).map(\.release)
        }
    }

    /// The releases of the given tags, by tag name (for the tags API).
    public func releases(projectID: Int64, tagNames: [String]) async throws -> [String: Release] {
        guard !tagNames.isEmpty else { return [:] }
        return try await database.read { db in
            let records = try await db.select().column("*").from("releases").where("project_id", .equal, projectID).where("tag_name", .in, tagNames)
                .records(ReleaseRecord.self)
            return Dictionary(records.map { ($0.tagName, $0.release) }, uniquingKeysWith: { first, _ in first })
        }
    }
}
