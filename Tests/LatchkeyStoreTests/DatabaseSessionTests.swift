import Foundation
import LatchkeyStore
import LatchkeyTestSupport
import SQLKit
import Testing

@Suite("Database sessions: readers and the writer")
struct DatabaseSessionTests {
    @Test("a read answers while a transaction holds the write lock, and sees only what was committed", arguments: TestBackend.all)
    func readDuringTransaction(backend: TestBackend) async throws {
        try await withTestDatabase(backend) { database, _ in
            let (entered, enteredSignal) = AsyncStream<Void>.makeStream()
            let (release, releaseSignal) = AsyncStream<Void>.makeStream()
            async let writing: Void = database.transaction { db in
                try await db.insert(into: "settings").columns("key", "value").values(SQLBind("pending"), SQLBind("x")).run()
                enteredSignal.yield()
                for await _ in release { break }
            }
            for await _ in entered { break }
            // With one serialised connection this read would wait for the transaction, which waits for this test: a hang.
            let seen = try await database.read { db in
                try await db.select().column("key").from("settings").where("key", .equal, "pending").all().count
            }
            #expect(seen == 0, "an uncommitted row is not visible to a reader")
            releaseSignal.yield()
            try await writing
            let committed = try await database.read { db in
                try await db.select().column("key").from("settings").where("key", .equal, "pending").all().count
            }
            #expect(committed == 1, "once committed, the next read sees it")
        }
    }

    @Test("a read session that writes still writes, and a write session's change is visible to the next read", arguments: TestBackend.all)
    func writesThroughReadAndWrite(backend: TestBackend) async throws {
        try await withTestDatabase(backend) { database, _ in
            try await database.read { db in
                try await db.insert(into: "settings").columns("key", "value").values(SQLBind("via-read"), SQLBind("1")).run()
            }
            try await database.write { db in
                try await db.insert(into: "settings").columns("key", "value").values(SQLBind("via-write"), SQLBind("2")).run()
            }
            let keys = try await database.read { db in
                try await db.select().column("key").from("settings").where("key", .in, ["via-read", "via-write"]).orderBy("key").all()
                    .map { try $0.decode(column: "key", as: String.self) }
            }
            #expect(keys == ["via-read", "via-write"])
        }
    }

    @Test("many concurrent reads and writes all finish, and every write lands", arguments: TestBackend.all)
    func concurrentMix(backend: TestBackend) async throws {
        try await withTestDatabase(backend) { database, _ in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<40 {
                    group.addTask {
                        if index % 4 == 0 {
                            try await database.transaction { db in
                                try await db.insert(into: "settings").columns("key", "value").values(SQLBind("k\(index)"), SQLBind("v")).run()
                            }
                        } else {
                            _ = try await database.read { db in try await db.select().column("key").from("settings").all() }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let count = try await database.read { db in
                try await db.select().column("key").from("settings").where(SQLFunction("SUBSTR", args: SQLIdentifier("key"), SQLLiteral.numeric("1"), SQLLiteral.numeric("1")), .equal, SQLBind("k")).all().count
            }
            #expect(count == 10)
        }
    }
}
