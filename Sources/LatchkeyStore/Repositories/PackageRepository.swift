import Foundation
import LatchkeyCore
import SQLKit

/// A package of a project's package registry (only `generic` packages for now).
public struct Package: Sendable, Equatable {
    public var id: Int64
    public var projectID: Int64
    public var name: String
    public var version: String
    public var packageType: String
    public var status: String
    public var creatorID: Int64?
    public var createdAt: Date
    public var updatedAt: Date
}

/// One uploaded file of a package; the bytes live in the package store.
public struct PackageFile: Sendable, Equatable {
    public var id: Int64
    public var packageID: Int64
    public var fileName: String
    public var size: Int64
    public var sha256: String
    public var storagePath: String
    /// The job whose token uploaded it, if any.
    public var jobID: Int64?
    public var createdAt: Date
}

struct PackageRecord: Codable, Sendable {
    var id: Int64
    var projectId: Int64
    var name: String
    var version: String
    var packageType: String
    var status: String
    var creatorId: Int64?
    var createdAt: Int64
    var updatedAt: Int64

    var package: Package {
        Package(
            id: id, projectID: projectId, name: name, version: version, packageType: packageType, status: status, creatorID: creatorId,
            createdAt: Date(milliseconds: createdAt), updatedAt: Date(milliseconds: updatedAt))
    }
}

struct PackageFileRecord: Codable, Sendable {
    var id: Int64
    var packageId: Int64
    var fileName: String
    var size: Int64
    var fileSha256: String
    var storagePath: String
    var jobId: Int64?
    var createdAt: Int64

    var file: PackageFile {
        PackageFile(
            id: id, packageID: packageId, fileName: fileName, size: size, sha256: fileSha256, storagePath: storagePath, jobID: jobId,
            createdAt: Date(milliseconds: createdAt))
    }
}

/// Packages and their files.
public struct PackageRepository: Sendable {
    let database: Database

    /// Records an uploaded file, creating the package on first upload (as GitLab does).
    public func addFile(
        projectID: Int64, type: String, name: String, version: String, creatorID: Int64?, fileName: String, size: Int64, sha256: String, storagePath: String,
        jobID: Int64?
    ) async throws -> (Package, PackageFile) {
        try await database.transaction { db in
            let now = Date().milliseconds
            var package = try await Self.find(projectID: projectID, type: type, name: name, version: version, db: db)
            if package == nil {
                package = try await db.insert(into: "packages")
                    .columns("project_id", "name", "version", "package_type", "status", "creator_id", "created_at", "updated_at")
                    .values(SQLBind(projectID), SQLBind(name), SQLBind(version), SQLBind(type), SQLBind("default"), SQLBind(creatorID), SQLBind(now), SQLBind(now))
                    .returning("*").first()?.record(PackageRecord.self).package
            } else {
                try await db.update("packages").set("updated_at", to: now).where("id", .equal, package!.id).run()
            }
            guard let package else { throw StoreError.corrupt("package insert") }
            guard
                let file = try await db.insert(into: "package_files")
                    .columns("package_id", "file_name", "size", "file_sha256", "storage_path", "job_id", "created_at")
                    .values(SQLBind(package.id), SQLBind(fileName), SQLBind(size), SQLBind(sha256), SQLBind(storagePath), SQLBind(jobID), SQLBind(now))
                    .returning("*").first()?.record(PackageFileRecord.self).file
            else { throw StoreError.corrupt("package file insert") }
            return (package, file)
        }
    }

    public func find(projectID: Int64, type: String, name: String, version: String) async throws -> Package? {
        try await database.read { db in try await Self.find(projectID: projectID, type: type, name: name, version: version, db: db) }
    }

    static func find(projectID: Int64, type: String, name: String, version: String, db: any SQLDatabase) async throws -> Package? {
        try await db.select().column("*").from("packages").where("project_id", .equal, projectID).where("package_type", .equal, type)
            .where("name", .equal, name).where("version", .equal, version).record(PackageRecord.self)?.package
    }

    /// The newest upload of `fileName` in the package.
    public func latestFile(packageID: Int64, fileName: String) async throws -> PackageFile? {
        try await database.read { db in
            try await db.select().column("*").from("package_files").where("package_id", .equal, packageID).where("file_name", .equal, fileName)
                .orderBy("id", .descending).limit(1).record(PackageFileRecord.self)?.file
        }
    }

    public func files(packageID: Int64) async throws -> [PackageFile] {
        try await database.read { db in
            try await db.select().column("*").from("package_files").where("package_id", .equal, packageID).orderBy("id").records(PackageFileRecord.self).map(\.file)
        }
    }

    /// A project's packages, newest first unless asked otherwise.
    public func list(projectID: Int64, type: String?, name: String?, ascending: Bool, page: PageRequest) async throws -> Page<Package> {
        try await database.read { db in
            let query = db.select().column("*").from("packages").where("project_id", .equal, projectID)
            if let type { query.where("package_type", .equal, type) }
            if let name { query.where("name", .equal, name) }
            query.orderBy("created_at", ascending ? .ascending : .descending).orderBy("id", ascending ? .ascending : .descending)
            return try await query.page(page, as: PackageRecord.self, countOn: db).map(\.package)
        }
    }
}
