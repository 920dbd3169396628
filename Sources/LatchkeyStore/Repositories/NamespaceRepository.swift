import Foundation
import LatchkeyCore
import SQLKit

struct NamespaceRecord: Codable, Sendable {
    var id: Int64
    var kind: String
    var name: String
    var path: String
    var fullPath: String
    var fullName: String
    var parentId: Int64?
    var ownerId: Int64?
    var visibility: String
    var description: String
    var createdAt: Int64

    var namespace: Namespace {
        let kind = NamespaceKind(rawValue: kind) ?? .group
        return Namespace(id: id, kind: kind, name: name, path: path, fullPath: fullPath, groupID: kind == .group ? id : nil, ownerID: ownerId)
    }

    var group: Group {
        Group(
            id: id, name: name, path: path, fullPath: fullPath, fullName: fullName, parentID: parentId,
            visibility: Visibility(rawValue: visibility) ?? .private, description: description, createdAt: Date(milliseconds: createdAt))
    }
}

/// What a new group is made of.
public struct NewGroup: Sendable {
    public var name: String
    public var path: String
    public var parentID: Int64?
    public var visibility: Visibility
    public var description: String

    public init(name: String, path: String, parentID: Int64?, visibility: Visibility, description: String) {
        self.name = name
        self.path = path
        self.parentID = parentID
        self.visibility = visibility
        self.description = description
    }
}

/// Groups, subgroups and personal namespaces.
public struct NamespaceRepository: Sendable {
    let database: Database

    /// Creates a group; its creator becomes Owner. `duplicate("path")` when the full path is taken.
    public func createGroup(_ new: NewGroup, creatorID: Int64) async throws -> Group {
        try await database.transaction { db in
            var fullPath = new.path
            var fullName = new.name
            if let parentID = new.parentID {
                guard let parent = try await db.select().column("*").from("namespaces").where("id", .equal, parentID).where("kind", .equal, "group")
                    .record(NamespaceRecord.self)
                else { throw StoreError.notFound }
                fullPath = parent.fullPath + "/" + new.path
                fullName = parent.fullName + " / " + new.name
            }
            try await Self.ensurePathFree(fullPath, db: db)
            let now = Date().milliseconds
            guard
                let record = try await db.insert(into: "namespaces")
                    .columns("kind", "name", "path", "full_path", "full_name", "parent_id", "owner_id", "visibility", "description", "created_at")
                    .values(
                        SQLBind(NamespaceKind.group.rawValue), SQLBind(new.name), SQLBind(new.path), SQLBind(fullPath), SQLBind(fullName),
                        SQLBind(new.parentID), SQLBind(Int64?.none), SQLBind(new.visibility.rawValue), SQLBind(new.description), SQLBind(now)
                    )
                    .returning("*").first()?.record(NamespaceRecord.self)
            else { throw StoreError.corrupt("group insert") }
            try await MemberRepository.insert(.group(record.id), userID: creatorID, level: .owner, expiresAt: nil, db: db)
            return record.group
        }
    }

    /// Refuses a full path already used by a namespace or a project (case-insensitively, as GitLab).
    static func ensurePathFree(_ fullPath: String, db: any SQLDatabase) async throws {
        for table in ["namespaces", "projects"] {
            if try await db.select().column("id").from(table)
                .where(SQLFunction("LOWER", args: SQLIdentifier("full_path")), .equal, SQLBind(fullPath.lowercased())).first() != nil
            {
                throw StoreError.duplicate("path")
            }
        }
    }

    public func group(id: Int64) async throws -> Group? {
        try await database.read { db in
            try await db.select().column("*").from("namespaces").where("id", .equal, id).where("kind", .equal, "group").record(NamespaceRecord.self)?.group
        }
    }

    public func group(fullPath: String) async throws -> Group? {
        guard let namespace = try await namespace(fullPath: fullPath), namespace.kind == .group else { return nil }
        return try await group(id: namespace.id)
    }

    public func namespace(id: Int64) async throws -> Namespace? {
        try await database.read { db in
            try await db.select().column("*").from("namespaces").where("id", .equal, id).record(NamespaceRecord.self)?.namespace
        }
    }

    public func namespace(fullPath: String) async throws -> Namespace? {
        try await database.read { db in
            try await db.select().column("*").from("namespaces")
                .where(SQLFunction("LOWER", args: SQLIdentifier("full_path")), .equal, SQLBind(fullPath.lowercased()))
                .record(NamespaceRecord.self)?.namespace
        }
    }

    /// The user's personal namespace.
    public func personalNamespace(userID: Int64) async throws -> Namespace? {
        try await database.read { db in
            try await db.select().column("*").from("namespaces").where("owner_id", .equal, userID).where("kind", .equal, "user")
                .record(NamespaceRecord.self)?.namespace
        }
    }

    /// The group and its ancestors, nearest first.
    public func groupChain(fullPath: String) async throws -> [Group] {
        let prefixes = Self.pathPrefixes(fullPath)
        return try await database.read { db in
            try await db.select().column("*").from("namespaces").where("kind", .equal, "group")
                .where("full_path", .in, prefixes)
                .records(NamespaceRecord.self).map(\.group)
                .sorted { $0.fullPath.count > $1.fullPath.count }
        }
    }

    /// Groups ordered by id (the caller filters by what the actor may see), optionally under a parent.
    public func listGroups(parentID: Int64?? = nil, search: String? = nil) async throws -> [Group] {
        try await database.read { db in
            let query = db.select().column("*").from("namespaces").where("kind", .equal, "group").orderBy("id")
            if case .some(let parent) = parentID {
                if let parent { query.where("parent_id", .equal, parent) } else { query.where("parent_id", .is, SQLLiteral.null) }
            }
            if let search, !search.isEmpty {
                let pattern = "%" + search.lowercased() + "%"
                query.where { $0.where(SQLFunction("LOWER", args: SQLIdentifier("name")), .like, SQLBind(pattern)).orWhere(SQLFunction("LOWER", args: SQLIdentifier("full_path")), .like, SQLBind(pattern)) }
            }
            return try await query.records(NamespaceRecord.self).map(\.group)
        }
    }

    public func deleteGroup(id: Int64) async throws {
        try await database.read { db in
            try await db.delete(from: "namespaces").where("id", .equal, id).run()
        }
    }

    /// "a/b/c" → ["a", "a/b", "a/b/c"].
    static func pathPrefixes(_ fullPath: String) -> [String] {
        var prefixes: [String] = []
        var current = ""
        for part in fullPath.split(separator: "/") {
            current = current.isEmpty ? String(part) : current + "/" + part
            prefixes.append(current)
        }
        return prefixes
    }
}
