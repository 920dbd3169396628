import Foundation
import LatchkeyStore
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Wake-ups between `serve` instances sharing one PostgreSQL: `NOTIFY latchkey_jobs` when this process may have queued a job,
/// and a `LISTEN` on its own connection that wakes this process's long-polling runners when another instance did.
///
/// Notifications are coalesced: while one `NOTIFY` is on its way, further calls only ask for one more after it, so a burst of
/// finishing jobs costs a few statements, not one each. A runner that misses one (the listening connection was being
/// re-established) still finds the job at its next claim: a claim is one indexed statement, run again at least every
/// `JobQueue.safetyInterval`.
final class JobWakeups: Sendable {
    static let channel = "latchkey_jobs"

    private let database: Database
    private let url: String
    private let logger: Logger
    /// Our own notifications carry this, so the listener does not wake this process twice.
    private let instance = UUID().uuidString
    private let state = Mutex(State())

    private struct State {
        var sending = false
        var again = false
    }

    init(database: Database, url: String, logger: Logger) {
        self.database = database
        self.url = url
        self.logger = logger
    }

    /// Tells the other instances that a job may have been queued.
    func broadcast() async {
        let start = state.withLock { state in
            if state.sending {
                state.again = true
                return false
            }
            state.sending = true
            return true
        }
        guard start else { return }
        while true {
            do {
                try await database.read { db in try await db.raw("SELECT pg_notify(\(bind: Self.channel), \(bind: instance))").run() }
            } catch {
                logger.warning("job wake-up: NOTIFY failed", metadata: ["reason": "\(ServerLauncher.reason(error))"])
            }
            let more = state.withLock { state in
                if state.again {
                    state.again = false
                    return true
                }
                state.sending = false
                return false
            }
            if !more { return }
        }
    }

    /// The service that listens for the other instances' notifications and wakes `queue`'s waiters.
    func listener(for queue: JobQueue) -> some Service { Listener(wakeups: self, queue: queue) }

    private struct Listener: Service, CustomStringConvertible {
        let wakeups: JobWakeups
        let queue: JobQueue
        var description: String { "JobWakeups" }

        func run() async throws {
            // Its own one-connection client: a LISTEN holds its connection for the process's life, outside the request pool.
            let client = try Database.postgresClient(url: wakeups.url, logger: wakeups.logger, maximumConnections: 1)
            await withDiscardingTaskGroup { group in
                group.addTask { await client.run() }
                await cancelWhenGracefulShutdown { await listen(client) }
                group.cancelAll()
            }
        }

        private func listen(_ client: PostgresClient) async {
            while !Task.isCancelled {
                do {
                    try await client.withConnection { connection in
                        try await connection.listen(on: JobWakeups.channel) { notifications in
                            // Whatever was queued while nobody listened is looked at once now.
                            await queue.wakeLocally()
                            for try await notification in notifications where notification.payload != wakeups.instance {
                                await queue.wakeLocally()
                            }
                        }
                    }
                } catch {
                    if Task.isCancelled { return }
                    wakeups.logger.warning("job wake-up: LISTEN ended, listening again", metadata: ["reason": "\(ServerLauncher.reason(error))"])
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}
