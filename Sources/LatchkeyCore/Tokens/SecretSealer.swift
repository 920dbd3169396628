import Crypto
import Foundation

/// Seals secrets the server must read back (CI/CD variable values) with AES-256-GCM under a key derived from the server secret,
/// so the database alone reveals none of them. Sealed text is `sealed:v1:` + base64 of nonce ‖ ciphertext ‖ tag.
public struct SecretSealer: Sendable {
    static let prefix = "sealed:v1:"
    // SymmetricKey is not Sendable: keep the bytes.
    private let key: [UInt8]

    /// A purpose-bound key: HMAC-SHA256(server secret, `purpose`), so it differs from every token digest and session key.
    public init(secret: [UInt8], purpose: String = "latchkey-variable-values-v1") {
        key = Array(HMAC<SHA256>.authenticationCode(for: Data(purpose.utf8), using: SymmetricKey(data: secret)))
    }

    /// Whether `stored` was sealed (rather than kept as plain text by an older version).
    public static func isSealed(_ stored: String) -> Bool { stored.hasPrefix(prefix) }

    public func seal(_ plain: String) throws -> String {
        let box = try AES.GCM.seal(Data(plain.utf8), using: SymmetricKey(data: key))
        guard let combined = box.combined else { throw SecretSealerError.cannotSeal }
        return Self.prefix + combined.base64EncodedString()
    }

    /// Seals bytes (a secure file) the same way.
    public func seal(data plain: Data) throws -> String {
        let box = try AES.GCM.seal(plain, using: SymmetricKey(data: key))
        guard let combined = box.combined else { throw SecretSealerError.cannotSeal }
        return Self.prefix + combined.base64EncodedString()
    }

    /// The bytes of what `seal(data:)` sealed.
    public func openData(_ stored: String) throws -> Data {
        guard Self.isSealed(stored), let data = Data(base64Encoded: String(stored.dropFirst(Self.prefix.count))),
            let plain = try? AES.GCM.open(AES.GCM.SealedBox(combined: data), using: SymmetricKey(data: key))
        else { throw SecretSealerError.cannotOpen }
        return plain
    }

    /// The plain text of a sealed value; plain text from before sealing comes back as it is.
    public func open(_ stored: String) throws -> String {
        guard Self.isSealed(stored) else { return stored }
        guard let data = Data(base64Encoded: String(stored.dropFirst(Self.prefix.count))),
            let plain = try? AES.GCM.open(AES.GCM.SealedBox(combined: data), using: SymmetricKey(data: key))
        else { throw SecretSealerError.cannotOpen }
        return String(decoding: plain, as: UTF8.self)
    }
}

extension SecretSealer: CustomStringConvertible, CustomDebugStringConvertible {
    // Never print the key.
    public var description: String { "SecretSealer([REDACTED])" }
    public var debugDescription: String { description }
}

/// Why a secret could not be sealed or opened (a value sealed under another server secret, or corrupted).
public enum SecretSealerError: Error, Sendable, Equatable {
    case cannotSeal
    case cannotOpen
}
