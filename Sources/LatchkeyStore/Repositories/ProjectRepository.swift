import Foundation
import LatchkeyCore
import SQLKit

struct ProjectRecord: Codable, Sendable {
    var id: Int64
    var namespaceId: Int64
    var name: String
    var path: String
    var fullPath: String
    var visibility: String
    var description: String
    var defaultBranch: String
    var creatorId: Int64
    var createdAt: Int64
    var lastActivityAt: Int64
    var jobTokenInboundEnabled: Bool
    var jobTokenOutboundEnabled: Bool
    var jobTokenPushAllowed: Bool
    var repositoryEmpty: Bool?
    var repositoryHeadSha: String?
    var jobTokenPermissionsCeiling: String?

    func project(in namespace: Namespace) -> Project {
        var project = Project(
            id: id, name: name, path: path, namespace: namespace, visibility: Visibility(rawValue: visibility) ?? .private, description: description,
            defaultBranch: defaultBranch, creatorID: creatorId, createdAt: Date(milliseconds: createdAt), lastActivityAt: Date(milliseconds: lastActivityAt),
            jobTokenInboundEnabled: jobTokenInboundEnabled, jobTokenOutboundEnabled: jobTokenOutboundEnabled, jobTokenPushAllowed: jobTokenPushAllowed,
            repositoryEmpty: repositoryEmpty, repositoryHeadSHA: repositoryHeadSha)
        project.jobTokenPermissionsCeiling = ProjectRepository.ceiling(stored: jobTokenPermissionsCeiling)
        return project
    }
}

/// What a new project is made of.
public struct NewProject: Sendable {
    public var name: String
    public var path: String
    public var namespaceID: Int64
    public var visibility: Visibility
    public var description: String
    public var defaultBranch: String

    public init(name: String, path: String, namespaceID: Int64, visibility: Visibility, description: String, defaultBranch: String) {
        self.name = name
        self.path = path
        self.namespaceID = namespaceID
        self.visibility = visibility
        self.description = description
        self.defaultBranch = defaultBranch
    }
}

/// Changes to a project's settings; nil leaves a field as it is.
public struct ProjectChanges: Sendable {
    public var name: String?
    public var description: String?
    public var visibility: Visibility?
    public var defaultBranch: String?
    public var jobTokenInboundEnabled: Bool?
    public var jobTokenOutboundEnabled: Bool?
    public var jobTokenPushAllowed: Bool?

    public init(
        name: String? = nil, description: String? = nil, visibility: Visibility? = nil, defaultBranch: String? = nil, jobTokenInboundEnabled: Bool? = nil,
        jobTokenOutboundEnabled: Bool? = nil, jobTokenPushAllowed: Bool? = nil
    ) {
        self.name = name
        self.description = description
        self.visibility = visibility
        self.defaultBranch = defaultBranch
        self.jobTokenInboundEnabled = jobTokenInboundEnabled
        self.jobTokenOutboundEnabled = jobTokenOutboundEnabled
        self.jobTokenPushAllowed = jobTokenPushAllowed
    }
}

/// Which projects a listing should hold, besides what the viewer may see.
public struct ProjectFilter: Sendable {
    public enum Viewer: Sendable {
        case anonymous
        case admin
        case user(id: Int64, groupPaths: [String])
    }

    public var viewer: Viewer
    public var search: String?
    public var visibility: Visibility?
    /// Only projects in this user's personal namespace.
    public var ownedBy: Int64?
    /// With `ownedBy`, also the projects the user is an Owner of through a project or group membership (GitLab's `owned=true`).
    public var ownedIncludesOwnerMemberships: Bool = false
    /// Only projects the viewer is a member of (directly or through a group).
    public var membershipOnly: Bool = false
    /// Only projects in this namespace or below.
    public var underNamespacePath: String?
    public var orderBy: String = "created_at"
    public var ascending: Bool = false

    public init(viewer: Viewer) { self.viewer = viewer }
}

/// The files named by a deleted project's rows: its jobs' traces (by job id), artifact archives and package files.
public struct ProjectFiles: Sendable, Equatable {
    public var jobIDs: [Int64] = []
    public var artifactPaths: [String] = []
    public var packagePaths: [String] = []

    public init() {}
}

/// Projects and their settings.
public struct ProjectRepository: Sendable {
    let database: Database

    /// Creates a project in a namespace; `duplicate("path")` when the full path is taken.
    public func create(_ new: NewProject, creatorID: Int64) async throws -> Project {
        try await database.transaction { db in
            guard let namespace = try await db.select().column("*").from("namespaces").where("id", .equal, new.namespaceID).record(NamespaceRecord.self)
            else { throw StoreError.notFound }
            let fullPath = namespace.fullPath + "/" + new.path
            try await NamespaceRepository.ensurePathFree(fullPath, db: db)
            let now = Date().milliseconds
            guard
                let record = try await db.insert(into: "projects")
                    .columns(
                        "namespace_id", "name", "path", "full_path", "visibility", "description", "default_branch", "creator_id", "created_at",
                        "last_activity_at", "job_token_inbound_enabled", "job_token_outbound_enabled", "job_token_push_allowed"
                    )
                    .values(
                        SQLBind(new.namespaceID), SQLBind(new.name), SQLBind(new.path), SQLBind(fullPath), SQLBind(new.visibility.rawValue),
                        SQLBind(new.description), SQLBind(new.defaultBranch), SQLBind(creatorID), SQLBind(now), SQLBind(now), SQLBind(true), SQLBind(false),
                        SQLBind(false)
                    )
                    .returning("*").first()?.record(ProjectRecord.self)
            else { throw StoreError.corrupt("project insert") }
            return record.project(in: namespace.namespace)
        }
    }

    public func find(id: Int64) async throws -> Project? {
        try await database.read { db in
            try await Self.withNamespace(db).where(SQLColumn("id", table: "p"), .equal, SQLBind(id)).first().map(Self.project(joined:))
        }
    }

    public func find(fullPath: String) async throws -> Project? {
        try await database.read { db in
            try await Self.withNamespace(db)
                .where(SQLFunction("LOWER", args: SQLColumn("full_path", table: "p")), .equal, SQLBind(fullPath.lowercased()))
                .first().map(Self.project(joined:))
        }
    }

    /// Projects (`p`, columns prefixed `p_`) joined to their namespaces (`n`, `n_`): a project in one query.
    static func withNamespace(_ db: any SQLDatabase) -> SQLSelectBuilder {
        db.select().columns(of: "p", JoinedColumns.projects, prefix: "p_").columns(of: "n", JoinedColumns.namespaces, prefix: "n_")
            .from(SQLAlias(SQLIdentifier("projects"), as: SQLIdentifier("p")))
            .join(SQLAlias(SQLIdentifier("namespaces"), as: SQLIdentifier("n")), method: SQLJoinMethod.inner, on: SQLColumn("id", table: "n"), .equal, SQLColumn("namespace_id", table: "p"))
    }

    /// The project of a row selected through `withNamespace`.
    static func project(joined row: any SQLRow) throws -> Project {
        try row.record(ProjectRecord.self, prefix: "p_").project(in: row.record(NamespaceRecord.self, prefix: "n_").namespace)
    }

    /// Projects the filter admits, one page at a time.
    public func list(_ filter: ProjectFilter, page: PageRequest) async throws -> Page<Project> {
        try await database.read { db in
            let query = db.select().column("*").from("projects")
            switch filter.viewer {
            case .admin:
                break
            case .anonymous:
                query.where("visibility", .equal, Visibility.public.rawValue)
            case .user(let userID, let groupPaths):
                query.where { visible in
                    visible.where("visibility", .in, [Visibility.public.rawValue, Visibility.internal.rawValue])
                    Self.memberOf(visible, userID: userID, groupPaths: groupPaths)
                    return visible
                }
            }
            if filter.membershipOnly, case .user(let userID, let groupPaths) = filter.viewer {
                query.where { member in
                    member.where(SQLLiteral.boolean(false))
                    Self.memberOf(member, userID: userID, groupPaths: groupPaths)
                    return member
                }
            }
            if let owner = filter.ownedBy {
                let personal = SQLBinaryExpression(
                    SQLIdentifier("namespace_id"), .in,
                    SQLGroupExpression(db.select().column("id").from("namespaces").where("owner_id", .equal, owner).where("kind", .equal, "user").select))
                if filter.ownedIncludesOwnerMemberships {
                    let ownedGroups = try await Self.ownedGroupPaths(userID: owner, db: db)
                    query.where { owned in
                        owned.where(personal)
                        owned.orWhere(
                            SQLBinaryExpression(
                                SQLIdentifier("id"), .in,
                                SQLGroupExpression(
                                    SQLQueryString(
                                        "SELECT project_id FROM project_members WHERE user_id = \(bind: owner) AND access_level = \(bind: AccessLevel.owner.rawValue) AND \(MemberRepository.active(table: nil))"))))
                        for path in ownedGroups { owned.orWhere(Self.startsWith("full_path", path + "/")) }
                        return owned
                    }
                } else {
                    query.where(personal)
                }
            }
            if let visibility = filter.visibility { query.where("visibility", .equal, visibility.rawValue) }
            if let path = filter.underNamespacePath {
                query.where(Self.startsWith("full_path", path + "/"))
            }
            if let search = filter.search, !search.isEmpty {
                let pattern = "%" + search.lowercased() + "%"
                query.where { $0.where(SQLFunction("LOWER", args: SQLIdentifier("name")), .like, SQLBind(pattern)).orWhere(SQLFunction("LOWER", args: SQLIdentifier("full_path")), .like, SQLBind(pattern)) }
            }
            let column = ["id", "name", "path", "created_at", "last_activity_at"].contains(filter.orderBy) ? filter.orderBy : "created_at"
            query.orderBy(column, filter.ascending ? .ascending : .descending).orderBy("id", filter.ascending ? .ascending : .descending)
            let records = try await query.page(page, as: ProjectRecord.self, countOn: db)
            return Page(items: try await Self.attach(records.items, db: db), total: records.total, request: page)
        }
    }

    /// Every project in the namespace tree rooted at `fullPath`.
    public func projects(underNamespacePath fullPath: String) async throws -> [Project] {
        try await database.read { db in
            let records = try await db.select().column("*").from("projects").where(Self.startsWith("full_path", fullPath + "/")).records(ProjectRecord.self)
            return try await Self.attach(records, db: db)
        }
    }

    public func update(id: Int64, _ changes: ProjectChanges) async throws -> Project {
        try await database.read { db in
            let update = db.update("projects").where("id", .equal, id)
            var any = false
            func set(_ column: String, _ value: (any Encodable & Sendable)?) {
                guard let value else { return }
                update.set(SQLIdentifier(column), to: SQLBind(value))
                any = true
            }
            set("name", changes.name)
            set("description", changes.description)
            set("visibility", changes.visibility?.rawValue)
            set("default_branch", changes.defaultBranch)
            set("job_token_inbound_enabled", changes.jobTokenInboundEnabled)
            set("job_token_outbound_enabled", changes.jobTokenOutboundEnabled)
            set("job_token_push_allowed", changes.jobTokenPushAllowed)
            if any { try await update.run() }
            guard let record = try await db.select().column("*").from("projects").where("id", .equal, id).record(ProjectRecord.self) else {
                throw StoreError.notFound
            }
            return try await Self.attach([record], db: db)[0]
        }
    }

    public func touch(id: Int64) async throws {
        try await database.read { db in
            try await db.update("projects").set("last_activity_at", to: Date().milliseconds).where("id", .equal, id).run()
        }
    }

    public func delete(id: Int64) async throws {
        try await database.read { db in try await db.delete(from: "projects").where("id", .equal, id).run() }
    }

    /// Deletes the projects and returns the files their rows named (traces by job id, artifacts, package files), for the caller to
    /// remove: the rows cascade, the files would otherwise outlive them.
    public func deleteReturningFiles(ids: [Int64]) async throws -> ProjectFiles {
        guard !ids.isEmpty else { return ProjectFiles() }
        return try await database.transaction { db in
            var files = ProjectFiles()
            files.jobIDs = try await db.select().column("id").from("jobs").where("project_id", .in, ids).all()
                .map { try $0.decode(column: "id", as: Int64.self) }
            files.artifactPaths = try await db.select().column("storage_path").from("job_artifacts").where("project_id", .in, ids).all()
                .map { try $0.decode(column: "storage_path", as: String.self) }
            files.packagePaths = try await db.select().column(SQLColumn("storage_path", table: "f"))
                .from(SQLAlias(SQLIdentifier("package_files"), as: SQLIdentifier("f")))
                .join(SQLAlias(SQLIdentifier("packages"), as: SQLIdentifier("p")), method: SQLJoinMethod.inner, on: SQLColumn("id", table: "p"), .equal, SQLColumn("package_id", table: "f"))
                .where(SQLColumn("project_id", table: "p"), .in, SQLGroupExpression(ids.map { SQLBind($0) }))
                .all().map { try $0.decode(column: "storage_path", as: String.self) }
            try await db.delete(from: "projects").where("id", .in, ids).run()
            return files
        }
    }

    private static func memberOf(_ builder: SQLPredicateGroupBuilder, userID: Int64, groupPaths: [String]) {
        builder.orWhere(SQLBinaryExpression(SQLIdentifier("id"), .in, SQLGroupExpression(SQLQueryString("SELECT project_id FROM project_members WHERE user_id = \(bind: userID) AND \(MemberRepository.active(table: nil))"))))
        builder.orWhere(SQLBinaryExpression(SQLIdentifier("namespace_id"), .in, SQLGroupExpression(SQLQueryString("SELECT id FROM namespaces WHERE kind = 'user' AND owner_id = \(bind: userID)"))))
        for path in groupPaths { builder.orWhere(startsWith("full_path", path + "/")) }
    }

    /// Full paths of the groups the user is a direct Owner of.
    private static func ownedGroupPaths(userID: Int64, db: any SQLDatabase) async throws -> [String] {
        try await db.select().column(SQLColumn("full_path", table: "n")).from(SQLAlias(SQLIdentifier("group_members"), as: SQLIdentifier("m")))
            .join(SQLAlias(SQLIdentifier("namespaces"), as: SQLIdentifier("n")), method: SQLJoinMethod.inner, on: SQLColumn("id", table: "n"), .equal, SQLColumn("namespace_id", table: "m"))
            .where(SQLColumn("user_id", table: "m"), .equal, SQLBind(userID))
            .where(SQLColumn("access_level", table: "m"), .equal, SQLBind(AccessLevel.owner.rawValue))
            .where(MemberRepository.active(table: "m"))
            .all().map { try $0.decode(column: "full_path", as: String.self) }
    }

    static func startsWith(_ column: String, _ prefix: String) -> any SQLExpression {
        SQLBinaryExpression(
            SQLFunction("SUBSTR", args: SQLIdentifier(column), SQLLiteral.numeric("1"), SQLLiteral.numeric(String(prefix.count))), .equal, SQLBind(prefix))
    }

    /// Projects with their namespaces attached.
    static func attach(_ records: [ProjectRecord], db: any SQLDatabase) async throws -> [Project] {
        let ids = Array(Set(records.map(\.namespaceId)))
        guard !ids.isEmpty else { return [] }
        let namespaces = try await db.select().column("*").from("namespaces").where("id", .in, ids).records(NamespaceRecord.self)
        let byID = Dictionary(uniqueKeysWithValues: namespaces.map { ($0.id, $0.namespace) })
        return records.compactMap { record in byID[record.namespaceId].map { record.project(in: $0) } }
    }
}
