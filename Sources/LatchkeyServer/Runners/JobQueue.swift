import Foundation

/// Wakes long-polling runners when a job becomes pending in this process (other instances are found by polling).
public actor JobQueue {
    public init() {}

    private var waiters: [UUID: CheckedContinuation<Void, Never>] = [:]
    /// Waits released before they parked (the timeout won the race): they must not park at all.
    private var released: Set<UUID> = []

    /// Wakes every waiting runner request.
    public func notify() {
        let current = waiters
        waiters.removeAll()
        for (_, continuation) in current { continuation.resume() }
    }

    /// Returns when notified or after `timeout`, whichever comes first.
    func wait(timeout: Duration) async {
        let id = UUID()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.park(id) }
            group.addTask {
                try? await Task.sleep(for: timeout)
                await self.release(id)
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
