import Foundation
import LatchkeyCore
import SQLKit

/// `artifacts:reports:dotenv`: the variables a job's report holds, and which of them a later job receives.
extension JobRepository {
    /// Migration 13: one row per dotenv variable of a job (GitLab's `ci_job_variables` with `source: dotenv`).
    static func createDotenvVariables(_ db: any SQLDatabase, _ kind: DatabaseKind) async throws {
        try await db.create(table: "job_dotenv_variables")
            .column("job_id", type: .bigint, .notNull, .references("jobs", "id", onDelete: .cascade))
            .column("position", type: .int, .notNull)
            .column("key", type: .text, .notNull)
            .column("value", type: .text, .notNull)
            .primaryKey("job_id", "key")
            .run()
    }

    /// Replaces the job's dotenv variables (a second upload of the report replaces the first, as its artifact does).
    static func replaceDotenvVariables(_ variables: [CIVariable], jobID: Int64, db: any SQLDatabase) async throws {
        try await db.delete(from: "job_dotenv_variables").where("job_id", .equal, jobID).run()
        guard !variables.isEmpty else { return }
        let insert = db.insert(into: "job_dotenv_variables").columns("job_id", "position", "key", "value")
        for (position, variable) in variables.enumerated() {
            insert.values(SQLBind(jobID), SQLBind(position), SQLBind(variable.key), SQLBind(variable.value))
        }
        try await insert.run()
    }

    /// The dotenv variables `job` receives, in one query, from the jobs it takes artifacts from (GitLab's `dependency_variables`):
    /// its `dependencies`, or the needed jobs with `artifacts: true`, or by default every earlier stage's latest attempts.
    /// Jobs in id order, each one's variables in file order; a later job's value of the same key wins.
    public func dependencyDotenvVariables(of job: Job) async throws -> [CIVariable] {
        let names = job.definition.dependencies
        if let names, names.isEmpty { return [] }
        return try await database.read { db in
            let chosen: SQLQueryString =
                if let names { "j.name IN (\(binds: names)) AND j.id <> \(bind: job.id)" } else { "j.stage_index < \(bind: job.stageIndex)" }
            let rows = try await db.raw(
                "SELECT v.key AS key, v.value AS value FROM jobs j JOIN job_dotenv_variables v ON v.job_id = j.id "
                    + "WHERE j.pipeline_id = \(bind: job.pipelineID) AND j.retried = \(bind: false) AND " + chosen + " ORDER BY j.id, v.position"
            ).all()
            var order: [String] = []
            var values: [String: String] = [:]
            for row in rows {
                let key = try row.decode(column: "key", as: String.self)
                if values.updateValue(try row.decode(column: "value", as: String.self), forKey: key) == nil { order.append(key) }
            }
            return order.map { CIVariable(key: $0, value: values[$0] ?? "") }
        }
    }

    /// One job's own dotenv variables, in file order.
    public func dotenvVariables(jobID: Int64) async throws -> [CIVariable] {
        try await database.read { db in
            try await db.select().column("key").column("value").from("job_dotenv_variables").where("job_id", .equal, jobID).orderBy("position").all()
                .map { CIVariable(key: try $0.decode(column: "key", as: String.self), value: try $0.decode(column: "value", as: String.self)) }
        }
    }
}
