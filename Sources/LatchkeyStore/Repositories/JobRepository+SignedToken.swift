import Foundation
import LatchkeyCore
import SQLKit

/// A running job's signed (JWT) token: its digest replaces the claim's placeholder, and the token itself is kept sealed so every
/// instance can mask it in the job's trace. Both are cleared with the nonce when the job ends.
extension JobRepository {
    /// Migration 17: the sealed JWT of a running job.
    static func addSignedTokenColumn(_ db: any SQLDatabase, _ kind: DatabaseKind) async throws {
        // A JWT cannot be re-derived from the nonce (it names the job and its time, and is signed), so it is kept sealed
        // (AES-GCM under a key derived from the server secret) while the job runs, and cleared when it ends.
        try await db.alter(table: "jobs").column("token_sealed", type: .text).run()
    }

    /// Gives the running job claimed with `nonce` its signed token: its digest (what lookups use) and its sealed text.
    /// False when the job is no longer that running claim (it ended, or was claimed again), so the token is never handed out.
    public func issueSignedToken(jobID: Int64, nonce: String, tokenDigest: String, sealed: String) async throws -> Bool {
        try await database.write { db in
            try await db.update("jobs").set("token_digest", to: tokenDigest).set("token_sealed", to: sealed)
                .where("id", .equal, jobID).where("token_nonce", .equal, nonce)
                .where("status", .in, [JobStatus.running.rawValue, JobStatus.canceling.rawValue])
                .returning("id").first() != nil
        }
    }

    /// The sealed signed token of a running job, if it was given one.
    public func sealedSignedToken(jobID: Int64) async throws -> String? {
        try await database.read { db in
            try await db.select().column("token_sealed").from("jobs").where("id", .equal, jobID)
                .where("status", .in, [JobStatus.running.rawValue, JobStatus.canceling.rawValue]).first()?
                .decode(column: "token_sealed", as: String?.self)
        }
    }
}
