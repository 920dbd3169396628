import Foundation
import LatchkeyCore
import SQLKit

struct ArtifactRecord: Codable, Sendable {
    var id: Int64
    var jobId: Int64
    var projectId: Int64
    var fileType: String
    var fileFormat: String
    var filename: String
    var size: Int64
    var storagePath: String
    var expireAt: Int64?
    var createdAt: Int64

    var artifact: JobArtifact {
        JobArtifact(
            id: id, jobID: jobId, projectID: projectId, fileType: fileType, fileFormat: fileFormat, filename: filename, size: size, storagePath: storagePath,
            expireAt: expireAt.map(Date.init(milliseconds:)), createdAt: Date(milliseconds: createdAt))
    }
}

/// Job artifact archives' rows (the files live in the artifact store).
public struct ArtifactRepository: Sendable {
    let database: Database

    /// Records a job's archive, replacing an earlier upload of the same type; returns the replaced row's storage path, if any.
    ///
    /// A dotenv report's parsed variables are stored in the same transaction, so a job never has one without the other.
    public func save(
        jobID: Int64, projectID: Int64, fileType: String, fileFormat: String, filename: String, size: Int64, storagePath: String, expireAt: Date?,
        dotenv: [CIVariable]? = nil
    ) async throws -> String? {
        try await database.transaction { db in
            if let dotenv { try await JobRepository.replaceDotenvVariables(dotenv, jobID: jobID, db: db) }
            let previous = try await db.select().column("*").from("job_artifacts").where("job_id", .equal, jobID).where("file_type", .equal, fileType)
                .record(ArtifactRecord.self)
            if previous != nil {
                try await db.delete(from: "job_artifacts").where("job_id", .equal, jobID).where("file_type", .equal, fileType).run()
            }
            try await db.insert(into: "job_artifacts")
                .columns("job_id", "project_id", "file_type", "file_format", "filename", "size", "storage_path", "expire_at", "created_at")
                .values(
                    SQLBind(jobID), SQLBind(projectID), SQLBind(fileType), SQLBind(fileFormat), SQLBind(filename), SQLBind(size), SQLBind(storagePath),
                    SQLBind(expireAt?.milliseconds), SQLBind(Date().milliseconds)
                )
                .run()
            return previous?.storagePath
        }
    }

    public func artifacts(jobID: Int64) async throws -> [JobArtifact] {
        try await database.read { db in
            try await db.select().column("*").from("job_artifacts").where("job_id", .equal, jobID).orderBy("id").records(ArtifactRecord.self).map(\.artifact)
        }
    }

    /// The `fileType` reports (e.g. `junit`) of the pipeline's latest builds, with their jobs' names, in job order.
    public func reports(pipelineID: Int64, fileType: String) async throws -> [(jobID: Int64, jobName: String, artifact: JobArtifact)] {
        try await database.read { db in
            let rows = try await db.raw(
                """
                SELECT a.*, j.name AS job_name FROM job_artifacts a JOIN jobs j ON j.id = a.job_id
                WHERE j.pipeline_id = \(bind: pipelineID) AND j.retried = \(bind: false) AND a.file_type = \(bind: fileType)
                ORDER BY j.id, a.id
                """
            ).all()
            return try rows.map { row in
                let record = try row.decode(model: ArtifactRecord.self, keyDecodingStrategy: ColumnNames.strategy)
                return (record.jobId, try row.decode(column: "job_name", as: String.self), record.artifact)
            }
        }
    }

    /// The job's archive unless it has expired.
    public func archive(jobID: Int64, now: Date = Date()) async throws -> JobArtifact? {
        try await artifacts(jobID: jobID).first { $0.fileType == "archive" && ($0.expireAt.map { $0 > now } ?? true) }
    }

    /// Removes expired rows and returns their storage paths, for the caller to delete.
    public func removeExpired(now: Date) async throws -> [String] {
        try await database.transaction { db in
            let expired = try await db.select().column("*").from("job_artifacts").where("expire_at", .lessThanOrEqual, now.milliseconds).limit(500)
                .records(ArtifactRecord.self)
            guard !expired.isEmpty else { return [] }
            try await db.delete(from: "job_artifacts").where("id", .in, expired.map(\.id)).run()
            return expired.map(\.storagePath)
        }
    }
}
