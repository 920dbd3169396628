import Foundation
import LatchkeyCore
import SQLKit

extension JobRepository {
    /// The running (or canceling) job whose token has this digest, with its project and user, in one query; nil for any other
    /// token, a finished job's included, or a job without a user.
    public func findWithProjectAndUser(tokenDigest: String) async throws -> (job: Job, project: Project, user: User)? {
        try await database.read { db in
            guard
                let row = try await ProjectRepository.withNamespace(db)
                    .column(SQLColumn(SQLLiteral.all, table: SQLIdentifier("j"))).columns(of: "u", JoinedColumns.users, prefix: "u_")
                    .join(SQLAlias(SQLIdentifier("jobs"), as: SQLIdentifier("j")), method: SQLJoinMethod.inner, on: SQLColumn("project_id", table: "j"), .equal, SQLColumn("id", table: "p"))
                    .join(SQLAlias(SQLIdentifier("users"), as: SQLIdentifier("u")), method: SQLJoinMethod.inner, on: SQLColumn("id", table: "u"), .equal, SQLColumn("user_id", table: "j"))
                    .where(SQLColumn("token_digest", table: "j"), .equal, SQLBind(tokenDigest))
                    .where(SQLColumn("status", table: "j"), .in, SQLGroupExpression([SQLBind(JobStatus.running.rawValue), SQLBind(JobStatus.canceling.rawValue)]))
                    .first()
            else { return nil }
            return (try row.record(JobRecord.self).job, try ProjectRepository.project(joined: row), try row.record(UserRecord.self, prefix: "u_").user)
        }
    }
}
