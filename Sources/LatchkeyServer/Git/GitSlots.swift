import Foundation
import LatchkeyCore
import Synchronization

/// Bounds the git processes (http-backend, archive) one credential runs at once, as Gitaly's pack-objects limiter does per
/// user or address: a client opening a thousand clones gets 429s after a short wait, not a thousand pack-objects.
///
/// The key is the job for a job token (a pipeline of a thousand jobs, all acting as one user, each clones once), the user
/// for their own credentials, and the address for anonymous requests.
final class GitSlots: Sendable {
    /// A slot held; freed when the last reference goes (the response body keeps it until its last byte is written).
    final class Slot: Sendable {
        private let slots: GitSlots
        private let key: String

        fileprivate init(slots: GitSlots, key: String) {
            self.slots = slots
            self.key = key
        }

        deinit { slots.release(key) }
    }

    let limit: Int
    let wait: Duration
    private let held = Mutex<[String: Int]>([:])

    init(limit: Int, wait: Duration = .seconds(10)) {
        self.limit = limit
        self.wait = wait
    }

    static func key(for actor: Actor, address: String?) -> String {
        switch actor {
        case .job(let job): "job:\(job.job.id)"
        case .user(let user): "user:\(user.user.id)"
        case .anonymous: "address:\(address ?? "unknown")"
        }
    }

    /// A slot for `key`, waiting up to `wait` for one to free; nil if none did.
    func acquire(_ key: String) async -> Slot? {
        let clock = ContinuousClock()
        let giveUp = clock.now + wait
        while true {
            if tryAcquire(key) { return Slot(slots: self, key: key) }
            guard clock.now < giveUp, !Task.isCancelled else { return nil }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// How many slots `key` holds now.
    func count(_ key: String) -> Int { held.withLock { $0[key] ?? 0 } }

    private func tryAcquire(_ key: String) -> Bool {
        held.withLock { held in
            let count = held[key] ?? 0
            guard count < limit else { return false }
            held[key] = count + 1
            return true
        }
    }

    private func release(_ key: String) {
        held.withLock { held in
            let count = (held[key] ?? 1) - 1
            held[key] = count > 0 ? count : nil
        }
    }
}
