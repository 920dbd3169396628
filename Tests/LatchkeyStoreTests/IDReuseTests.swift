import Foundation
import LatchkeyCore
import LatchkeyStore
import LatchkeyTestSupport
import SQLKit
import Testing

@Suite("Ids are never reused")
struct IDReuseTests {
    @Test("a deleted project's, group's or user's id is never handed out again", arguments: TestBackend.all)
    func noReuse(backend: TestBackend) async throws {
        try await withStore(backend) { store in
            let root = try await store.makeUser("root", admin: true)
            let namespace = try #require(try await store.namespaces.personalNamespace(userID: root.id))
            let first = try await store.makeProject("first", namespaceID: namespace.id, creator: root)
            try await store.projects.delete(id: first.id)
            let second = try await store.makeProject("second", namespaceID: namespace.id, creator: root)
            #expect(second.id > first.id)

            let group = try await store.makeGroup("team", creator: root)
            try await store.namespaces.deleteGroup(id: group.id)
            let other = try await store.makeGroup("other", creator: root)
            #expect(other.id > group.id)

            let carol = try await store.makeUser("carol")
            try await store.database.read { db in try await db.delete(from: "users").where("id", .equal, carol.id).run() }
            let dave = try await store.makeUser("dave")
            #expect(dave.id > carol.id)
        }
    }

    @Test("on SQLite every table with an id counts with AUTOINCREMENT, and the rebuild kept rows, indexes and foreign keys")
    func sqliteAutoincrement() async throws {
        try await withTestDatabase(.sqlite) { database, _ in
            try await database.read { db in
                let tables = try await db.raw("SELECT name, sql FROM sqlite_master WHERE type = 'table'").all()
                for row in tables {
                    let name = try row.decode(column: "name", as: String.self)
                    let sql = try row.decode(column: "sql", as: String.self)
                    // auth_attempts' ids never leave the server.
                    guard sql.contains("\"id\" INTEGER PRIMARY KEY"), name != "auth_attempts" else { continue }
                    #expect(sql.contains("AUTOINCREMENT"), "\(name): \(sql)")
                }
                let indexes = try await db.raw("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").all()
                    .map { try $0.decode(column: "name", as: String.self) }
                #expect(indexes.contains("jobs_by_pipeline"))
                #expect(indexes.contains("pipelines_by_project"))
                let jobForeignKeys = try await db.raw("PRAGMA foreign_key_list(jobs)").all().map { try $0.decode(column: "table", as: String.self) }
                #expect(Set(jobForeignKeys) == ["pipelines", "projects", "users"])
                let foreignKeysOn = try await db.raw("PRAGMA foreign_keys").first()?.decode(column: "foreign_keys", as: Int.self)
                #expect(foreignKeysOn == 1)
            }
        }
    }
}
