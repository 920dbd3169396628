import Foundation
import LatchkeyCore
import SQLKit

/// Where a running job's trace stands, in the runner's byte offsets.
public struct TraceState: Sendable, Equatable {
    /// Bytes received from the runner so far.
    public var received: Int64
    /// CRC-32 of those bytes, for the runner's final checksum.
    public var crc: UInt32
    /// Raw bytes the server-side masker still holds back (they may begin a secret).
    public var held: [UInt8]
    public var exitCode: Int?

    public init(received: Int64, crc: UInt32, held: [UInt8], exitCode: Int?) {
        self.received = received
        self.crc = crc
        self.held = held
        self.exitCode = exitCode
    }
}

/// The runner side of jobs: token lookup, trace bookkeeping and finishing (claims are `claimNext`, in JobRepository+Dispatch).
extension JobRepository {
    /// The job whose live token has this digest (running or canceling), if any.
    public func find(tokenDigest: String) async throws -> Job? {
        try await database.read { db in
            try await db.select().column("*").from("jobs").where("token_digest", .equal, tokenDigest)
                .where("status", .in, [JobStatus.running.rawValue, JobStatus.canceling.rawValue])
                .record(JobRecord.self)?.job
        }
    }

    public func traceState(jobID: Int64) async throws -> TraceState? {
        try await database.read { db in
            guard let row = try await db.select().column("*").from("job_traces").where("job_id", .equal, jobID).first() else { return nil }
            return TraceState(
                received: try row.decode(column: "received", as: Int64.self), crc: UInt32(truncatingIfNeeded: try row.decode(column: "crc", as: Int64.self)),
                held: Array(try row.decode(column: "held", as: Data.self)), exitCode: try row.decode(column: "exit_code", as: Int?.self))
        }
    }

    /// The nonce the job's live token was derived from, while the job runs.
    public func tokenNonce(jobID: Int64) async throws -> String? {
        try await database.read { db in
            try await db.select().column("token_nonce").from("jobs").where("id", .equal, jobID)
                .where("status", .in, [JobStatus.running.rawValue, JobStatus.canceling.rawValue]).first()?.decode(column: "token_nonce", as: String?.self)
        }
    }

    /// Records appended trace bytes if the trace still stands at `expected` bytes; false if another request moved it.
    /// One statement: the trace row's own `updated_at` is the runner's sign of life (`active` reads it), so `jobs` is not written.
    public func advanceTrace(jobID: Int64, expected: Int64, to state: TraceState) async throws -> Bool {
        try await database.write { db in
            try await db.update("job_traces")
                .set("received", to: state.received).set("crc", to: Int64(state.crc)).set("held", to: Data(state.held))
                .set("updated_at", to: Date().milliseconds)
                .where("job_id", .equal, jobID).where("received", .equal, expected)
                .returning("job_id").first() != nil
        }
    }

    /// Notes that the runner is still alive for the job.
    public func touch(jobID: Int64) async throws {
        try await database.write { db in try await db.update("jobs").set("updated_at", to: Date().milliseconds).where("id", .equal, jobID).run() }
    }

    /// Ends a running or canceling job (a canceling job always ends canceled) and kills its token at once; nil if it had already ended.
    /// A failure then meets the job's `allow_failure:exit_codes` and `retry` (`applyFailurePolicy`).
    public func finish(jobID: Int64, status: JobStatus, failureReason: String?, exitCode: Int?) async throws -> Job? {
        let finished: Job? = try await database.transaction { db in
            let now = Date().milliseconds
            guard
                let current = try await db.select().column("*").from("jobs").where("id", .equal, jobID)
                    .where("status", .in, [JobStatus.running.rawValue, JobStatus.canceling.rawValue]).record(JobRecord.self)
            else { return nil }
            let final = current.status == JobStatus.canceling.rawValue ? JobStatus.canceled : status
            let record = try await db.update("jobs")
                .set("status", to: final.rawValue).set("token_digest", to: SQLLiteral.null).set("token_nonce", to: SQLLiteral.null)
                .set("token_sealed", to: SQLLiteral.null).set("finished_at", to: now).set("updated_at", to: now)
                .set("failure_reason", to: SQLBind(final == .failed ? failureReason : nil))
                .where("id", .equal, jobID).where("status", .equal, current.status)
                .returning("*").first()?.record(JobRecord.self)
            if let exitCode { try await db.update("job_traces").set("exit_code", to: exitCode).where("job_id", .equal, jobID).run() }
            if let failed = record?.job, failed.status == .failed {
                try await Self.applyFailurePolicy(to: failed, failureReason: failureReason, exitCode: exitCode, db: db)
            }
            return record?.job
        }
        if let finished { try await PipelineRepository(database: database).advance(afterEndOf: finished) }
        return finished
    }

    /// Running or canceling jobs, for the reaper to check timeouts and silent runners; `updatedAt` is the runner's last sign of
    /// life for the job (an update, or a trace `PATCH`, which touches only the trace row).
    public func active() async throws -> [Job] {
        try await database.read { db in
            let statuses = [JobStatus.running.rawValue, JobStatus.canceling.rawValue]
            let rows = try await db.raw(
                "SELECT j.*, t.updated_at AS trace_updated_at FROM jobs j LEFT JOIN job_traces t ON t.job_id = j.id WHERE j.status IN (\(binds: statuses)) ORDER BY j.id"
            ).all()
            return try rows.map { row in
                var job = try row.record(JobRecord.self).job
                if let traced = try row.decode(column: "trace_updated_at", as: Int64?.self) { job.updatedAt = max(job.updatedAt, Date(milliseconds: traced)) }
                return job
            }
        }
    }

    /// Jobs of the same pipeline in earlier stages (the default `dependencies`).
    public func latestJobs(pipelineID: Int64) async throws -> [Job] {
        try await database.read { db in try await Self.current(pipelineID: pipelineID, db: db) }
    }
}
