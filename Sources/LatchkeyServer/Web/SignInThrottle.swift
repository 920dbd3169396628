import Foundation

/// Counts failed sign-ins per username and client address, in memory, and refuses more once too many fail in a window.
actor SignInThrottle {
    let limit: Int
    let window: TimeInterval
    private var failures: [String: [Date]] = [:]

    init(limit: Int = 5, window: TimeInterval = 600) {
        self.limit = limit
        self.window = window
    }

    private static func key(_ username: String, _ address: String) -> String { username.lowercased() + "\u{0}" + address }

    /// Whether another attempt is allowed now.
    func allows(username: String, address: String, now: Date = Date()) -> Bool {
        prune(now)
        return (failures[Self.key(username, address)]?.count ?? 0) < limit
    }

    func recordFailure(username: String, address: String, now: Date = Date()) {
        failures[Self.key(username, address), default: []].append(now)
    }

    func reset(username: String, address: String) {
        failures[Self.key(username, address)] = nil
    }

    private func prune(_ now: Date) {
        // Keeps memory bounded by the attempts of the last window.
        failures = failures.compactMapValues { dates in
            let recent = dates.filter { now.timeIntervalSince($0) < window }
            return recent.isEmpty ? nil : recent
        }
    }
}
