import Foundation
import Logging
import NIOCore
import PostgresKit
import PostgresNIO
import SQLKit
import Synchronization

extension Database {
    /// Answers when the database runs `SELECT 1` within `timeout`; throws `StoreError.unavailable` otherwise.
    public func ping(timeout: Duration) async throws {
        try await Self.answer(within: timeout, "the \(kind.rawValue) database") {
            _ = try await self.read { db in try await db.raw("SELECT 1 AS ok").all() }
        }
    }

    /// Runs `body` on a pooled connection, failing with `StoreError.unavailable` when none is handed over within `timeout`.
    ///
    /// Only the wait for a connection is bounded: a long transaction that has its connection may take as long as it needs.
    /// PostgresClient removes a cancelled lease request from its queue, so the waiting task ends when its deadline does.
    static func withConnection<T: Sendable>(
        _ client: PostgresClient, timeout: Duration, _ body: @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let leased = Locked(false)
        // The task group awaits both children before it returns, so `body` never outlives this call.
        return try await withoutActuallyEscaping(body) { body in
            try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask {
                    try await client.withConnection { connection in
                        leased.withLock { $0 = true }
                        return try await body(connection)
                    }
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    if leased.withLock({ $0 }) { return nil }
                    throw StoreError.unavailable("no PostgreSQL connection within \(timeout)")
                }
                while let result = try await group.next() {
                    if let result {
                        group.cancelAll()
                        return result
                    }
                }
                throw StoreError.unavailable("no PostgreSQL connection")
            }
        }
    }

    /// `body`'s answer, or `StoreError.unavailable` once `timeout` has passed, even when `body` ignores cancellation.
    ///
    /// `body` runs in a task of its own that is cancelled at the deadline: a query on a hung server cannot be interrupted,
    /// and a readiness probe must answer anyway.
    static func answer<T: Sendable>(within timeout: Duration, _ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let pending = Locked<CheckedContinuation<T, any Error>?>(nil)
        let resume: @Sendable (Result<T, any Error>) -> Bool = { result in
              guard let continuation = pending.withLock({ value in defer { value = nil }; return value }) else { return false }
              continuation.resume(with: result)
              return true
        }
        let work = Locked<Task<Void, Never>?>(nil)
        let timer = Locked<Task<Void, Never>?>(nil)
        defer {
              work.withLock { $0?.cancel() }
              timer.withLock { $0?.cancel() }
        }
        return try await withCheckedThrowingContinuation { continuation in
              pending.withLock { $0 = continuation }
              work.withLock {
                  $0 = Task {
                      do { _ = resume(.success(try await body())) } catch { _ = resume(.failure(error)) }
                  }
              }
              timer.withLock {
                  $0 = Task {
                      guard (try? await Task.sleep(for: timeout)) != nil else { return }
                      _ = resume(.failure(StoreError.unavailable("\(what) did not answer within \(timeout)")))
                  }
              }
        }
    }

    /// Connects once to the PostgreSQL server `url` names, retrying only failures that may pass (refused, unreachable, timed out)
    /// until `timeout`; throws `StoreError.unavailable` with one line naming the server (never the password) and the reason.
    public static func checkPostgres(url: String, timeout: Duration, logger: Logger) async throws {
        guard let configuration = try? SQLPostgresConfiguration(url: url) else {
              throw StoreError.invalidConfiguration("\(redacted(url)) is not a postgres:// URL")
        }
        var core = configuration.coreConfiguration
        let name = redacted(url)
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var quiet = logger
        quiet.logLevel = .critical
        while true {
              let remaining = deadline - clock.now
              core.options.connectTimeout = .init(min(max(remaining, .milliseconds(500)), .seconds(5)))
              do {
                  let connection = try await PostgresConnection.connect(configuration: core, id: 1, logger: quiet)
                  try? await connection.close()
                  return
              } catch let error as CancellationError {
                  throw error
              } catch {
                  let reason = describe(connectionError: error)
                  if !reason.transient || clock.now + .milliseconds(500) >= deadline {
                      throw StoreError.unavailable("cannot connect to \(name): \(reason.text)")
                  }
                  logger.notice("database not reachable yet, retrying", metadata: ["database": "\(name)", "reason": "\(reason.text)"])
                  try await Task.sleep(for: .milliseconds(500))
              }
        }
    }

    /// `postgres://user@host:port/database`: the URL without its password or query.
    public static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return "the PostgreSQL URL" }
        components.password = nil
        components.query = nil
        if components.port == nil, components.host != nil { components.port = 5432 }
        return components.string ?? "the PostgreSQL URL"
    }

    /// What went wrong connecting, in words, and whether trying again may help.
    public static func describe(connectionError error: any Error) -> (text: String, transient: Bool) {
        if let psql = error as? PSQLError {
              if let message = psql.serverInfo?[.message] {
                  // 57P03: the server is starting up or shutting down; every other server answer (bad password, no such database) stays.
                  return (message, psql.serverInfo?[.sqlState] == "57P03")
              }
              if let underlying = psql.underlying { return describe(connectionError: underlying) }
              switch psql.code {
              case .sslUnsupported: return ("the server does not support TLS", false)
              case .connectionError, .serverClosedConnection, .uncleanShutdown: return ("the connection was closed", true)
              default: return ("\(psql.code)", true)
              }
        }
        if let io = error as? IOError { return (String(cString: strerror(io.errnoCode)).lowercased(), true) }
        if let connection = error as? NIOConnectionError {
              if connection.dnsAError != nil || connection.dnsAAAAError != nil, connection.connectionErrors.isEmpty {
                  return ("cannot resolve host \(connection.host)", true)
              }
              if let first = connection.connectionErrors.first { return describe(connectionError: first.error) }
              return ("cannot resolve host \(connection.host)", true)
        }
        if let channel = error as? ChannelError, case .connectTimeout(let after) = channel {
              return ("no answer within \(after.nanoseconds / 1_000_000) ms", true)
        }
        return ("\(type(of: error))", true)
    }
}

/// A value behind a mutex that escaping closures can share (`Mutex` itself cannot be captured).
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<R: Sendable>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
}

extension Error {
    /// Whether this failure means the database could not be reached or would not serve (down, restarting, no free connection),
    /// as opposed to a statement it refused: the request is answered 503 and may be retried.
    public var isDatabaseUnavailable: Bool {
        if case .unavailable = self as? StoreError { return true }
        if let psql = self as? PSQLError {
              if let state = psql.serverInfo?[.sqlState] { return state.hasPrefix("08") || state.hasPrefix("57P") || state == "53300" }
              return [.connectionError, .serverClosedConnection, .uncleanShutdown, .poolClosed, .clientClosedConnection].contains(psql.code)
        }
        // SQLite's busy timeout ran out: another process holds the write lock.
        return String(describing: self).contains("database is locked")
    }
}
