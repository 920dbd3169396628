import Foundation
import LatchkeyCore
import LatchkeyStore

/// Limits failed password attempts per account (from every source) and per source address, counted in the database so that every
/// instance counts together. A slot is taken before the password is checked, so concurrent attempts are all counted; a success
/// gives its slot back.
struct FailedAttemptThrottle: Sendable {
    /// How many failures a bucket may hold in `window`, and how long it is then banned (0: only until the window moves on).
    struct Rule: Sendable {
        var name: String
        var limit: Int
        var window: TimeInterval
        var ban: TimeInterval

        /// The web sign-in form: five failures per ten minutes.
        static let webSignIn = Rule(name: "web", limit: 5, window: 600, ban: 0)
        /// Git over HTTP and the registry's `/jwt/auth` with Basic passwords: GitLab's rack-attack, 10 failures a minute, then an hour.
        static let basic = Rule(name: "basic", limit: 10, window: 60, ban: 3600)
    }

    /// The slots one attempt took, to give back if it succeeds.
    struct Slot: Sendable {
        fileprivate var ids: [Int64]
    }

    let store: Store

    /// The buckets an attempt counts in; loopback is exempt from the per-address limit, as GitLab allows 127.0.0.1.
    static func buckets(account: String, address: String?, rule: Rule) -> [String] {
        var buckets = ["\(rule.name):account:\(account.lowercased())"]
        if let address, !address.isEmpty, address != "unknown", !isLoopback(address) { buckets.append("\(rule.name):address:\(address)") }
        return buckets
    }

    static func isLoopback(_ address: String) -> Bool {
        address == "::1" || address.hasPrefix("127.") || address.hasPrefix("::ffff:127.")
    }

    /// Takes a slot for the attempt; nil when the account or address has used up its failures (the password is then not checked).
    func attempt(account: String, address: String?, rule: Rule, now: Date = Date()) async throws -> Slot? {
        let buckets = Self.buckets(account: account, address: address, rule: rule)
        if rule.ban > 0, try await store.authAttempts.isBanned(buckets: buckets, since: now.addingTimeInterval(-rule.ban)) { return nil }
        let taken = try await store.authAttempts.take(buckets: buckets, since: now.addingTimeInterval(-rule.window), now: now)
        let over = buckets.filter { (taken.counts[$0] ?? 0) > rule.limit }
        guard over.isEmpty else {
            if rule.ban > 0 { try await store.authAttempts.ban(buckets: over, now: now) }
            try await store.authAttempts.release(ids: taken.ids)
            return nil
        }
        return Slot(ids: taken.ids)
    }

    /// The attempt succeeded: its slots are not failures.
    func succeeded(_ slot: Slot) async throws {
        try await store.authAttempts.release(ids: slot.ids)
    }
}
