import Foundation
import LatchkeyCore
import SQLKit

/// An asset link of a release.
public struct ReleaseLink: Sendable, Equatable {
    public var id: Int64
    public var releaseID: Int64
    public var name: String
    public var url: String
    public var filepath: String?
    public var linkType: ReleaseLinkType
    public var createdAt: Date

    /// The link's fields, to be validated with an update applied.
    public var draft: ReleaseLinkDraft { ReleaseLinkDraft(name: name, url: url, filepath: filepath, linkType: linkType) }
}

struct ReleaseLinkRecord: Codable, Sendable {
    var id: Int64
    var releaseId: Int64
    var name: String
    var url: String
    var filepath: String?
    var linkType: String
    var createdAt: Int64

    func link() throws -> ReleaseLink {
        guard let type = ReleaseLinkType(rawValue: linkType) else { throw StoreError.corrupt("release link \(id) has an unknown type") }
        return ReleaseLink(id: id, releaseID: releaseId, name: name, url: url, filepath: filepath, linkType: type, createdAt: Date(milliseconds: createdAt))
    }
}

/// Release asset links: names, URLs and permanent paths, each unique within its release.
public struct ReleaseLinkRepository: Sendable {
    let database: Database

    /// The release's links, newest first (GitLab's `sorted`).
    public func list(releaseID: Int64) async throws -> [ReleaseLink] {
        try await links(releaseIDs: [releaseID])[releaseID] ?? []
    }

    /// The links of several releases at once, newest first within each (for release listings).
    public func links(releaseIDs: [Int64]) async throws -> [Int64: [ReleaseLink]] {
        guard !releaseIDs.isEmpty else { return [:] }
        return try await database.read { db in
            let records = try await db.select().column("*").from("release_links").where("release_id", .in, releaseIDs)
                .orderBy("created_at", .descending).orderBy("id", .descending).records(ReleaseLinkRecord.self)
            var result: [Int64: [ReleaseLink]] = [:]
            for record in records { result[record.releaseId, default: []].append(try record.link()) }
            return result
        }
    }

    public func find(id: Int64, releaseID: Int64) async throws -> ReleaseLink? {
        try await database.read { db in
            try await db.select().column("*").from("release_links").where("id", .equal, id).where("release_id", .equal, releaseID)
                .record(ReleaseLinkRecord.self)?.link()
        }
    }

    /// Stores a link; `StoreError.duplicate` when another request took its name, URL or path meanwhile.
    public func create(releaseID: Int64, _ draft: ReleaseLinkDraft) async throws -> ReleaseLink {
        try await database.write { db in
            do {
                guard
                    let record = try await db.insert(into: "release_links")
                        .columns("release_id", "name", "url", "filepath", "link_type", "created_at")
                        .values(
                            SQLBind(releaseID), SQLBind(draft.name), SQLBind(draft.url), SQLBind(draft.filepath), SQLBind(draft.linkType.rawValue),
                            SQLBind(Date().milliseconds)
                        )
                        .returning("*").first()?.record(ReleaseLinkRecord.self)
                else { throw StoreError.corrupt("release link insert") }
                return try record.link()
            } catch where error.isUniqueViolation {
                throw StoreError.duplicate("Release link")
            }
        }
    }

    /// Replaces a link's fields; `StoreError.notFound` when it is gone, `StoreError.duplicate` on a clash another request made.
    public func update(id: Int64, releaseID: Int64, _ draft: ReleaseLinkDraft) async throws -> ReleaseLink {
        try await database.write { db in
            do {
                guard
                    let record = try await db.update("release_links")
                        .set("name", to: draft.name).set("url", to: draft.url).set("filepath", to: SQLBind(draft.filepath))
                        .set("link_type", to: draft.linkType.rawValue)
                        .where("id", .equal, id).where("release_id", .equal, releaseID)
                        .returning("*").first()?.record(ReleaseLinkRecord.self)
                else { throw StoreError.notFound }
                return try record.link()
            } catch where error.isUniqueViolation {
                throw StoreError.duplicate("Release link")
            }
        }
    }

    /// Removes a link; false when it was already gone.
    public func delete(id: Int64, releaseID: Int64) async throws -> Bool {
        try await database.write { db in
            try await db.delete(from: "release_links").where("id", .equal, id).where("release_id", .equal, releaseID).returning("id").first() != nil
        }
    }

    /// Migration 16: the table. Unique keys per release back the model's checks against concurrent requests; several links may
    /// lack a path (NULLs never clash).
    static func createTable(_ db: any SQLDatabase, _ kind: DatabaseKind) async throws {
        // Link ids reach the API: SQLite must never hand a deleted one out again (see migration 5).
        let primaryKey: SQLColumnConstraintAlgorithm =
            kind == .sqlite ? .custom(SQLRaw("PRIMARY KEY AUTOINCREMENT")) : .primaryKey(autoIncrement: true)
        try await db.create(table: "release_links")
            .column("id", type: .bigint, primaryKey)
            .column("release_id", type: .bigint, .notNull, .references("releases", "id", onDelete: .cascade))
            .column("name", type: .text, .notNull)
            .column("url", type: .text, .notNull)
            .column("filepath", type: .text)
            .column("link_type", type: .text, .notNull)
            .column("created_at", type: .bigint, .notNull)
            .unique("release_id", "name")
            .unique("release_id", "url")
            .unique("release_id", "filepath")
            .run()
    }
}
