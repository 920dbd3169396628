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
        let file = try RSASigningKeyFile.load(directory.appendingPathComponent("oidc-key.pem"))
        let keys = JWTKeyCollection()
        await keys.add(rsa: file.key, digestAlgorithm: .sha256, kid: JWKIdentifier(string: file.keyID))
        return IDTokenSigner(keys: keys, keyID: file.keyID, jwks: ["keys": [file.jwk]])
    }

    /// A signed token for `claims`.
    func sign(_ claims: IDTokenClaims) async throws -> String {
        try await keys.sign(claims, kid: JWKIdentifier(string: keyID))
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

