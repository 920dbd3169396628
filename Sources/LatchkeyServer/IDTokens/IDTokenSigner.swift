import Crypto
import Foundation
import JWTKit
import LatchkeyCore
import _CryptoExtras

/// Signs the OIDC ID tokens jobs ask for with `id_tokens:` (RS256), and publishes the verification key as a JWKS.
///
/// The key lives in the data directory (`oidc-key.pem`, mode 0600), made on first start; its `kid` is the RFC 7638
/// thumbprint of the public key, so a rotated key (delete the file, restart) gets a new `kid` that verifiers fetch.
public struct IDTokenSigner: Sendable {
    let keys: JWTKeyCollection
    /// The key's id, in the token header and the JWKS.
    public let keyID: String
    /// `{"keys": [{kty, kid, use, alg, n, e}]}`.
    public let jwks: [String: [[String: String]]]

    /// Loads the signing key from `directory`, creating it on first use.
    public static func load(in directory: URL) async throws -> IDTokenSigner {
        let file = directory.appendingPathComponent("oidc-key.pem")
        if (try? String(contentsOf: file, encoding: .utf8)) == nil {
            let pem = try _RSA.Signing.PrivateKey(keySize: .bits2048).pemRepresentation
            let temporary = directory.appendingPathComponent(".oidc-key.pem-\(UUID().uuidString)")
            guard FileManager.default.createFile(atPath: temporary.path, contents: Data(pem.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: temporary.path])
            }
            defer { unlink(temporary.path) }
            // Instances sharing a data directory may start together: the first key linked into place wins.
            if link(temporary.path, file.path) != 0 && errno != EEXIST { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: file.path]) }
        }
        let key = try Insecure.RSA.PrivateKey(pem: try String(contentsOf: file, encoding: .utf8))
        let primitives = try key.publicKey.getKeyPrimitives()
        let n = Self.base64URL(primitives.modulus), e = Self.base64URL(primitives.publicExponent)
        // RFC 7638: SHA-256 of the required members in lexicographic order, no whitespace.
        let thumbprint = Self.base64URL(Data(SHA256.hash(data: Data("{\"e\":\"\(e)\",\"kty\":\"RSA\",\"n\":\"\(n)\"}".utf8))))
        let keys = JWTKeyCollection()
        await keys.add(rsa: key, digestAlgorithm: .sha256, kid: JWKIdentifier(string: thumbprint))
        return IDTokenSigner(keys: keys, keyID: thumbprint, jwks: ["keys": [["kty": "RSA", "kid": thumbprint, "use": "sig", "alg": "RS256", "n": n, "e": e]]])
    }

    /// A signed token for `claims`.
    func sign(_ claims: IDTokenClaims) async throws -> String {
        try await keys.sign(claims, kid: JWKIdentifier(string: keyID))
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}

/// The ID token signer, loaded (and on first start made: an RSA key takes a while) the first time a job or a verifier needs it.
public actor IDTokenKeys {
    private let directory: URL
    private var loaded: IDTokenSigner?

    public init(directory: URL) { self.directory = directory }

    /// The signer, loading or creating the key on first use.
    public func signer() async throws -> IDTokenSigner {
        if let loaded { return loaded }
        let signer = try await IDTokenSigner.load(in: directory)
        loaded = signer
        return signer
    }
}

