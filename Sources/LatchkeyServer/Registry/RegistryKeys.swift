import Crypto
import Foundation
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
        if let key = try? String(contentsOf: keyFile, encoding: .utf8), let certificate = try? String(contentsOf: certificateFile, encoding: .utf8) {
            let rsa = try _RSA.Signing.PrivateKey(pemRepresentation: key)
            return RegistryKeys(privateKeyPEM: key, certificatePEM: certificate, keyID: try libtrustKeyID(rsa.publicKey.derRepresentation))
        }
        let rsa = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let name = try DistinguishedName { CommonName("Latchkey registry token signer") }
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(rsa.publicKey), notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(10 * 365 * 86400), issuer: name, subject: name, signatureAlgorithm: .sha256WithRSAEncryption,
            extensions: try Certificate.Extensions { Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil)) },
            issuerPrivateKey: .init(rsa))
        let certificatePEM = try certificate.serializeAsPEM().pemString
        let keyPEM = rsa.pemRepresentation
        try write(keyPEM, to: keyFile, mode: 0o600)
        try write(certificatePEM, to: certificateFile, mode: 0o644)
        return RegistryKeys(privateKeyPEM: keyPEM, certificatePEM: certificatePEM, keyID: try libtrustKeyID(rsa.publicKey.derRepresentation))
    }

    private static func write(_ text: String, to url: URL, mode: Int) throws {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent)-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: temporary.path, contents: Data(text.utf8), attributes: [.posixPermissions: mode])
        try FileManager.default.moveItem(at: temporary, to: url)
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
