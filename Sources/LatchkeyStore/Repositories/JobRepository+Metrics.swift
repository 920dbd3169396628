import SQLKit

extension JobRepository {
    /// How many jobs wait or run now, by status (`created`, `pending`, `running`, …, with `scheduled`/`manual` when present);
    /// finished jobs are not counted. For `/-/metrics`: one grouped query over the status index.
    public func queueDepth() async throws -> [String: Int] {
        try await database.read { db in
            let rows = try await db.select().column("status").column(SQLFunction("COUNT", args: SQLLiteral.all), as: "n").from("jobs")
                .where("status", .in, ["created", "pending", "running", "scheduled", "manual", "waiting_for_resource", "preparing"])
                .groupBy("status").all()
            var depth = ["pending": 0, "running": 0]
            for row in rows { depth[try row.decode(column: "status", as: String.self)] = try row.decode(column: "n", as: Int.self) }
            return depth
        }
    }
}
