import Foundation
import LatchkeyTestSupport
import Logging
import PostgresNIO
import Testing

@testable import LatchkeyStore

/// The database being down is an answer, in time: statements, readiness probes and startup checks never wait for ever.
@Suite("Database availability")
struct DatabaseAvailabilityTests {
    static let logger: Logger = {
        var logger = Logger(label: "latchkey.test")
        logger.logLevel = .critical
        return logger
    }()

    /// A port nothing listens on.
    static func closedPort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// A PostgreSQL database whose server is down, its client running for the length of `body`.
    static func withDownPostgres<T: Sendable>(timeout: Duration, _ body: @Sendable (Database) async throws -> T) async throws -> T {
        let client = try Database.postgresClient(url: "postgres://latchkey:pw@127.0.0.1:\(try closedPort())/latchkey", logger: logger)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                await client.run()
                return nil
            }
            defer { group.cancelAll() }
            return try await body(Database.postgres(client: client, connectionTimeout: timeout))
        }
    }

    @Test("a statement on a PostgreSQL server that is down fails as unavailable within the connection timeout")
    func statementOnDownServer() async throws {
        try await Self.withDownPostgres(timeout: .milliseconds(300)) { database in
            let started = ContinuousClock.now
            await #expect(throws: StoreError.self) { try await database.read { db in try await db.raw("SELECT 1").run() } }
            do {
                try await database.transaction { db in try await db.raw("SELECT 1").run() }
                Issue.record("a transaction on a down server succeeded")
            } catch {
                #expect(error.isDatabaseUnavailable, "\(error)")
            }
            #expect(ContinuousClock.now - started < .seconds(10))
        }
    }

    @Test("readiness ping: fails on a PostgreSQL server that is down, answers on SQLite and fails once SQLite is closed")
    func ping() async throws {
        try await Self.withDownPostgres(timeout: .seconds(30)) { database in
            let started = ContinuousClock.now
            // The ping's own deadline holds even when the connection wait would be longer.
            await #expect(throws: StoreError.self) { try await database.ping(timeout: .milliseconds(400)) }
            #expect(ContinuousClock.now - started < .seconds(10))
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("latchkey-ping-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let sqlite = try await Database.sqlite(path: directory.appendingPathComponent("db.sqlite3").path, logger: Self.logger)
        try await sqlite.ping(timeout: .seconds(2))
        try await sqlite.close()
        await #expect(throws: (any Error).self) { try await sqlite.ping(timeout: .seconds(2)) }
    }

    @Test("a deadline holds even for work that ignores cancellation")
    func deadlineHolds() async throws {
        let started = ContinuousClock.now
        do {
            _ = try await Database.answer(within: .milliseconds(200), "the test") {
                // Sleeps through cancellation, as a query on a hung server would.
                usleep(2_000_000)
                return 1
            }
            Issue.record("the deadline did not hold")
        } catch let error as StoreError {
            #expect(error == .unavailable("the test did not answer within 0.2 seconds"))
        }
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(try await Database.answer(within: .seconds(5), "the test") { 7 } == 7)
    }

    @Test("the startup check names the server without its password and why it failed: refused (retried until the bound), bad password (at once)")
    func startupCheck() async throws {
        let port = try Self.closedPort()
        let started = ContinuousClock.now
        do {
            try await Database.checkPostgres(url: "postgres://latchkey:s3cret@127.0.0.1:\(port)/latchkey", timeout: .seconds(1), logger: Self.logger)
            Issue.record("connected to a closed port")
        } catch let error as StoreError {
            #expect(error == .unavailable("cannot connect to postgres://latchkey@127.0.0.1:\(port)/latchkey: connection refused"))
        }
        // It gives up rather than retrying for ever (a bound against a hang, not a speed check: a busy test machine is slow).
        #expect(ContinuousClock.now - started < .seconds(60))
        #expect(Database.redacted("postgres://u:p@db/app?sslmode=require") == "postgres://u@db:5432/app")
        guard let admin = ProcessInfo.processInfo.environment["LATCHKEY_TEST_POSTGRES_URL"], var wrong = URLComponents(string: admin) else { return }
        try await Database.checkPostgres(url: admin, timeout: .seconds(5), logger: Self.logger)
        wrong.password = "not-the-password"
        let url = try #require(wrong.string)
        let attempted = ContinuousClock.now
        do {
            try await Database.checkPostgres(url: url, timeout: .seconds(10), logger: Self.logger)
            Issue.record("a wrong password connected")
        } catch let error as StoreError {
            guard case .unavailable(let text) = error else { throw error }
            #expect(text.hasPrefix("cannot connect to \(Database.redacted(url)): password authentication failed"), "\(text)")
            #expect(!text.contains("not-the-password"))
        }
        #expect(ContinuousClock.now - attempted < .seconds(2))
    }
}
