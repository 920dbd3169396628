import Crypto
import Foundation
import LatchkeyCore

/// What a browser's session cookie carries: who signed in (nil before sign-in), the form token, and a one-time notice.
struct WebSession: Codable, Sendable, Equatable {
    var userID: Int64?
    /// A signed-in session's id, whose keyed digest must be in `web_sessions`: signing out deletes it, so a replayed cookie is nothing.
    var sessionID: String?
    /// The per-session CSRF token every form posts back as `authenticity_token`.
    var csrf: String
    var issuedAt: Date
    /// A message for the next page shown (after a redirect).
    var notice: String?
    var alert: String?

    /// A fresh session with a new CSRF token.
    static func fresh(userID: Int64? = nil) -> WebSession {
        WebSession(userID: userID, sessionID: userID == nil ? nil : TokenDigester.nonce(), csrf: TokenDigester.nonce(), issuedAt: Date())
    }

    /// Whether `presented` is this session's CSRF token, compared in constant time.
    func acceptsCSRF(_ presented: String?) -> Bool {
        guard let presented else { return false }
        return ConstantTime.equal(Array(csrf.utf8), Array(presented.utf8))
    }
}

/// Seals sessions into cookies with AES-GCM, under a key derived from the server secret; a signed-in session is also recorded
/// server-side (`web_sessions`), so it can be ended.
struct SessionCookie: Sendable {
    static let name = "_latchkey_session"
    /// GitLab's default session lifetime (`session_expire_delay`: one week).
    static let lifetime: TimeInterval = 7 * 24 * 3600

    // SymmetricKey is not Sendable: keep the bytes.
    private let key: [UInt8]
    let secure: Bool

    /// `secure` sets the cookie's `Secure` flag (when the external URL is https).
    init(digester: TokenDigester, secure: Bool) {
        // A purpose-bound key: the HMAC of a label under the server secret, so the session key differs from every token digest.
        let hex = Array(digester.digest("latchkey-web-session-key-v1").utf8)
        key = stride(from: 0, to: hex.count - 1, by: 2).compactMap { UInt8(String(decoding: hex[$0...$0 + 1], as: UTF8.self), radix: 16) }
        self.secure = secure
    }

    func seal(_ session: WebSession) throws -> String {
        let plain = try JSONEncoder().encode(session)
        let box = try AES.GCM.seal(plain, using: SymmetricKey(data: key))
        guard let combined = box.combined else { throw CocoaError(.coderInvalidValue) }
        return combined.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The session in `value`, if it was sealed with this server's key and has not expired.
    func open(_ value: String, now: Date = Date()) -> WebSession? {
        guard value.count < 4096 else { return nil }
        var base64 = value.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let box = try? AES.GCM.SealedBox(combined: data),
            let plain = try? AES.GCM.open(box, using: SymmetricKey(data: key)),
            let session = try? JSONDecoder().decode(WebSession.self, from: plain)
        else { return nil }
        guard now.timeIntervalSince(session.issuedAt) < Self.lifetime, session.issuedAt.timeIntervalSince(now) < 300 else { return nil }
        return session
    }
}

/// Comparison whose time does not depend on where two secrets differ.
enum ConstantTime {
    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
