import Crypto
import Foundation

/// The kinds of bearer secret Latchkey mints, each with the prefix secret scanners know.
public enum TokenKind: String, Sendable, CaseIterable {
    case personalAccess = "glpat-"
    case jobToken = "glcbt-"
    case runner = "glrt-"
    case pipelineTrigger = "glptt-"
    case registration = "glrtr-"

    public var prefix: String { rawValue }

    /// The kind a presented token claims by its prefix.
    public static func of(_ token: String) -> TokenKind? {
        allCases.first { token.hasPrefix($0.prefix) }
    }
}

/// A freshly minted or presented bearer secret; it never prints its value.
public struct SecretToken: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The full token text. Read it only to hand it to its owner once or to digest it.
    public let value: String

    public init(_ value: String) { self.value = value }

    /// Mints a token of `kind` with 256 bits from the system CSPRNG, URL-safe base64 without padding.
    public static func mint(_ kind: TokenKind) -> SecretToken {
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for index in bytes.indices { bytes[index] = generator.next() }
        let body = Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return SecretToken(kind.prefix + body)
    }

    public var kind: TokenKind? { TokenKind.of(value) }

    public var description: String { "\(kind?.prefix ?? "")…[REDACTED]" }
    public var debugDescription: String { description }
}

/// Keyed digests of tokens: what the database stores and looks tokens up by.
public struct TokenDigester: Sendable {
    // SymmetricKey is not Sendable; keep the bytes and wrap them per call (cheap next to the MAC).
    private let secret: [UInt8]

    public init(secret: [UInt8]) { self.secret = secret }

    /// HMAC-SHA256 of the token under the server secret, as lowercase hex.
    public func digest(_ token: SecretToken) -> String { digest(token.value) }

    /// A token recomputable only with the server secret: `prefix` + base64url(HMAC(secret, label ‖ nonce)).
    /// With a fresh 256-bit CSPRNG nonce per token this is as unguessable as a random token, stores nothing that reveals it,
    /// and lets every server instance re-derive a live job's token to mask it in traces.
    public func derive(_ kind: TokenKind, nonce: String) -> SecretToken {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("latchkey-\(kind.rawValue)\(nonce)".utf8), using: SymmetricKey(data: secret))
        let body = Data(mac).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return SecretToken(kind.prefix + body)
    }

    /// A sealer keyed for `purpose` from the same server secret (a key of its own, unrelated to the digests).
    public func sealer(purpose: String) -> SecretSealer { SecretSealer(secret: secret, purpose: purpose) }

    /// A fresh 256-bit nonce from the system CSPRNG, as hex.
    public static func nonce() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String(format: "%016llx", generator.next() as UInt64) }.joined()
    }

    public func digest(_ value: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(value.utf8), using: SymmetricKey(data: secret))
        return mac.map { String(format: "%02x", $0) }.joined()
    }
}

extension TokenDigester: CustomStringConvertible, CustomDebugStringConvertible {
    // Loggers and service descriptions must never print the server secret.
    public var description: String { "TokenDigester([REDACTED])" }
    public var debugDescription: String { description }
}
