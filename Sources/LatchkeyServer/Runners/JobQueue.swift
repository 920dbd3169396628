import Foundation

/// Wakes long-polling runners when a job may have become pending: in this process directly, in other instances through
/// `broadcast` (PostgreSQL `NOTIFY`, see `JobWakeups`).
public actor JobQueue {
    /// How long a long-polling runner waits without any wake-up before it tries to claim again: only a safety net for a
    /// notification lost while the listening connection was re-established, not a poll of the pending set.
    static let safetyInterval: Duration = .seconds(10)

    private let broadcast: (@Sendable () async -> Void)?

    public init() { broadcast = nil }

    init(broadcast: @escaping @Sendable () async -> Void) { self.broadcast = broadcast }

    private var waiters: [UUID: CheckedContinuation<Void, Never>] = [:]
    /// Waits released before they parked (the timeout won the race): they must not park at all.
    private var released: Set<UUID> = []

    /// Wakes every waiting runner request, here and in the other instances.
    public nonisolated func notify() async {
        await wakeLocally()
        await broadcast?()
    }

    /// Wakes every waiting runner request of this process.
    func wakeLocally() {
        let current = waiters
        waiters.removeAll()
        for (_, continuation) in current { continuation.resume() }
    }

    /// How many long polls of this process wait now.
    public var waiting: Int { waiters.count }

    /// Returns when notified, after `timeout`, or once the waiting request's client has gone, whichever comes first.
    func wait(timeout: Duration, orUntil departure: PeerDeparture? = nil) async {
        let id = UUID()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.park(id) }
            group.addTask {
                try? await Task.sleep(for: timeout)
                await self.release(id)
            }
            if let departure {
                group.addTask {
                    await departure.untilGone()
                    await self.release(id)
                }
            }
            await group.next()
            group.cancelAll()
            self.release(id)
        }
        released.remove(id)
    }

    private func park(_ id: UUID) async {
        await withCheckedContinuation { continuation in
            if released.remove(id) != nil {
                continuation.resume()
            } else {
                waiters[id] = continuation
            }
        }
    }

    private func release(_ id: UUID) {
        if let continuation = waiters.removeValue(forKey: id) {
            continuation.resume()
        } else {
            released.insert(id)
        }
    }
}
