import Crypto
import Foundation
import JWTKit
import _CryptoExtras

/// An RS256 signing key kept as a PEM file in the data directory (mode 0600), with its RFC 7638 `kid` and its public JWK:
/// what the ID-token key and the job-token keys share.
struct RSASigningKeyFile: Sendable {
    let key: JWTKit.Insecure.RSA.PrivateKey
    /// The RFC 7638 thumbprint of the public key: a rotated key always gets a new one.
    let keyID: String
    /// The public key as a JWK (`kty`, `kid`, `use`, `alg`, `n`, `e`).
    let jwk: [String: String]

    /// Reads the key at `file`, creating it on first use. Instances sharing a data directory may start together: the first key
    /// linked into place wins, and every instance then reads that one.
    static func load(_ file: URL) throws -> RSASigningKeyFile {
        if (try? String(contentsOf: file, encoding: .utf8)) == nil { try create(file, replacing: false) }
        return try read(file)
    }

    /// Writes a new key at `file`; with `replacing`, atomically over an existing one (rename), else only if there is none (link).
    static func create(_ file: URL, replacing: Bool) throws {
        let pem = try _RSA.Signing.PrivateKey(keySize: .bits2048).pemRepresentation
        let directory = file.deletingLastPathComponent()
        let temporary = directory.appendingPathComponent(".\(file.lastPathComponent)-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: temporary.path, contents: Data(pem.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary.path])
        }
        defer { unlink(temporary.path) }
        if replacing {
            if rename(temporary.path, file.path) != 0 { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: file.path]) }
        } else if link(temporary.path, file.path) != 0 && errno != EEXIST {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: file.path])
        }
    }

    /// Reads an existing key file.
    static func read(_ file: URL) throws -> RSASigningKeyFile {
        let key = try JWTKit.Insecure.RSA.PrivateKey(pem: try String(contentsOf: file, encoding: .utf8))
        let primitives = try key.publicKey.getKeyPrimitives()
        let n = base64URL(primitives.modulus), e = base64URL(primitives.publicExponent)
        // RFC 7638: SHA-256 of the required members in lexicographic order, no whitespace.
        let thumbprint = base64URL(Data(SHA256.hash(data: Data("{\"e\":\"\(e)\",\"kty\":\"RSA\",\"n\":\"\(n)\"}".utf8))))
        return RSASigningKeyFile(key: key, keyID: thumbprint, jwk: ["kty": "RSA", "kid": thumbprint, "use": "sig", "alg": "RS256", "n": n, "e": e])
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
