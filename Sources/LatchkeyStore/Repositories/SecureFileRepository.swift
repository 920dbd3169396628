import Crypto
import Foundation
import LatchkeyCore
import SQLKit

struct SecureFileRecord: Codable, Sendable {
    var id: Int64
    var projectId: Int64
    var name: String
    var checksum: String
    var size: Int
    var createdAt: Int64

    var file: SecureFile {
        SecureFile(id: id, projectID: projectId, name: name, checksum: checksum, size: size, createdAt: Date(milliseconds: createdAt))
    }
}

/// Secure files: metadata beside the content, which is sealed with the store's sealer (AES-256-GCM) so the database alone
/// reveals none of it.
public struct SecureFileRepository: Sendable {
    let database: Database
    var sealer: SecretSealer?

    public enum Failure: Error, Equatable {
        case duplicateName
        case tooMany
    }

    private static let metadataColumns = ["id", "project_id", "name", "checksum", "size", "created_at"]

    public func files(projectID: Int64) async throws -> [SecureFile] {
        try await database.read { db in
            try await db.select().columns(Self.metadataColumns.map { SQLIdentifier($0) }).from("secure_files").where("project_id", .equal, projectID)
                .orderBy("id").records(SecureFileRecord.self).map(\.file)
        }
    }

    public func find(id: Int64, projectID: Int64) async throws -> SecureFile? {
        try await database.read { db in
            try await db.select().columns(Self.metadataColumns.map { SQLIdentifier($0) }).from("secure_files").where("id", .equal, id)
                .where("project_id", .equal, projectID).record(SecureFileRecord.self)?.file
        }
    }

    /// The file's bytes, opened.
    public func content(id: Int64, projectID: Int64) async throws -> Data? {
        let stored: String? = try await database.read { db in
            try await db.select().column("content").from("secure_files").where("id", .equal, id).where("project_id", .equal, projectID).first()?
                .decode(column: "content", as: String.self)
        }
        guard let stored else { return nil }
        if let sealer { return try sealer.openData(stored) }
        guard stored.hasPrefix("base64:"), let data = Data(base64Encoded: String(stored.dropFirst(7))) else { throw StoreError.corrupt("secure file \(id)") }
        return data
    }

    /// Stores a file; `Failure.duplicateName` or `.tooMany` (GitLab's 100 per project, counted in the same transaction).
    public func create(projectID: Int64, name: String, content: Data) async throws -> SecureFile {
        let sealed = try sealer?.seal(data: content) ?? "base64:" + content.base64EncodedString()
        let checksum = SHA256.hash(data: content).map { String(format: "%02x", $0) }.joined()
        return try await database.transaction { db in
            let count = try await db.select().column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("secure_files")
                .where("project_id", .equal, projectID).first()?.decode(column: "n", as: Int.self) ?? 0
            guard count < SecureFile.maximumPerProject else { throw Failure.tooMany }
            let taken = try await db.select().column("id").from("secure_files").where("project_id", .equal, projectID).where("name", .equal, name).first()
            guard taken == nil else { throw Failure.duplicateName }
            do {
                guard
                    let record = try await db.insert(into: "secure_files").columns("project_id", "name", "checksum", "size", "content", "created_at")
                        .values(SQLBind(projectID), SQLBind(name), SQLBind(checksum), SQLBind(content.count), SQLBind(sealed), SQLBind(Date().milliseconds))
                        .returning(Self.metadataColumns.map { SQLColumn($0) }).first()?.record(SecureFileRecord.self)
                else { throw StoreError.corrupt("secure file insert") }
                return record.file
            } catch where error.isUniqueViolation {
                // Two uploads of one name at once: the check above passed for both, the table's unique key stops the second.
                throw Failure.duplicateName
            }
        }
    }

    public func delete(id: Int64, projectID: Int64) async throws {
        try await database.read { db in
            try await db.delete(from: "secure_files").where("id", .equal, id).where("project_id", .equal, projectID).run()
        }
    }

    static func createTable(_ db: any SQLDatabase, _ kind: DatabaseKind) async throws {
        // Ids reach the API: SQLite must never hand a deleted one out again (see migration 5).
        let primaryKey: SQLColumnConstraintAlgorithm =
            kind == .sqlite ? .custom(SQLRaw("PRIMARY KEY AUTOINCREMENT")) : .primaryKey(autoIncrement: true)
        try await db.create(table: "secure_files")
            .column("id", type: .bigint, primaryKey)
            .column("project_id", type: .bigint, .notNull, .references("projects", "id", onDelete: .cascade))
            .column("name", type: .text, .notNull)
            .column("checksum", type: .text, .notNull)
            .column("size", type: .bigint, .notNull)
            .column("content", type: .text, .notNull)
            .column("created_at", type: .bigint, .notNull)
            .unique("project_id", "name")
            .run()
    }
}
