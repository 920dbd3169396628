import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import JWTKit
import SwiftASN1
import X509
import _CryptoExtras

/// The key pair that signs container registry tokens, and the certificate the registry trusts (`rootcertbundle`).
/// Generated in the data directory on first start (key mode 0600).
public struct RegistryKeys: Sendable {
    public let privateKeyPEM: String
    public let certificatePEM: String
    /// The `kid` docker/distribution expects: libtrust's fingerprint of the public key.
    public let keyID: String

    /// Loads the keys from `directory`, creating them on first use.
    public static func load(in directory: URL) throws -> RegistryKeys {
        let keyFile = directory.appendingPathComponent("registry-key.pem")
        let certificateFile = directory.appendingPathComponent("registry-cert.pem")
        if (try? String(contentsOf: keyFile, encoding: .utf8)) == nil {
            // Instances sharing a data directory may start together: the first key linked into place wins, the others read it.
            _ = try publish(try _RSA.Signing.PrivateKey(keySize: .bits2048).pemRepresentation, to: keyFile, mode: 0o600)
        }
        let keyPEM = try String(contentsOf: keyFile, encoding: .utf8)
        let rsa = try _RSA.Signing.PrivateKey(pemRepresentation: keyPEM)
        // A certificate is derived from the key, so a start interrupted between the two files heals on the next one.
        if (try? String(contentsOf: certificateFile, encoding: .utf8)) == nil {
            _ = try publish(try selfSignedCertificate(rsa), to: certificateFile, mode: 0o600)
        }
        let certificatePEM = try String(contentsOf: certificateFile, encoding: .utf8)
        return RegistryKeys(privateKeyPEM: keyPEM, certificatePEM: certificatePEM, keyID: try libtrustKeyID(rsa.publicKey.derRepresentation))
    }

    private static func selfSignedCertificate(_ rsa: _RSA.Signing.PrivateKey) throws -> String {
        let name = try DistinguishedName { CommonName("Latchkey registry token signer") }
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(rsa.publicKey), notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(10 * 365 * 86400), issuer: name, subject: name, signatureAlgorithm: .sha256WithRSAEncryption,
            extensions: try Certificate.Extensions { Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil)) },
            issuerPrivateKey: .init(rsa))
        return try certificate.serializeAsPEM().pemString
    }

    /// Writes `text` under a temporary name and links it into place; false when the file already exists (never overwritten).
    private static func publish(_ text: String, to url: URL, mode: Int) throws -> Bool {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent)-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: temporary.path, contents: Data(text.utf8), attributes: [.posixPermissions: mode]) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary.path])
        }
        defer { unlink(temporary.path) }
        if link(temporary.path, url.path) == 0 { return true }
        if errno == EEXIST { return false }
        throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
    }

    /// libtrust's key id: SHA-256 of the DER public key, first 240 bits, base32 without padding, in groups of four joined by ':'.
    static func libtrustKeyID(_ publicKeyDER: Data) throws -> String {
        let digest = Array(SHA256.hash(data: publicKeyDER)).prefix(30)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var bits = 0
        var value = 0
        var encoded: [Character] = []
        for byte in digest {
            value = (value << 8) | Int(byte)
            bits += 8
            while bits >= 5 {
                encoded.append(alphabet[(value >> (bits - 5)) & 31])
                bits -= 5
            }
        }
        return stride(from: 0, to: encoded.count, by: 4).map { String(encoded[$0..<min($0 + 4, encoded.count)]) }.joined(separator: ":")
    }
}
