import Foundation
import JWTKit

/// The keys that sign and verify JWT job tokens: the current one (`job-token-key.pem` in the data directory, mode 0600, made on
/// first use) and the retired ones (`job-token-keys-retired/<retired at>-<kid>.pem`), kept for the longest a token lives after
/// their retirement so no live token stops verifying. Separate from the ID-token key: an ID token is never a job token.
///
/// Instances sharing a data directory see a rotation within a second: the files are looked at again (a `stat`, at most once a
/// second) before signing, before publishing the JWKS and when a token names a `kid` this instance does not know.
public actor JobTokenKeys {
    static let currentName = "job-token-key.pem"
    static let retiredName = "job-token-keys-retired"

    private let directory: URL
    private var ring: Ring?
    private var lastCheck: ContinuousClock.Instant?

    private struct Ring {
        var current: RSASigningKeyFile
        var verifiers: JWTKeyCollection
        var known: Set<String>
        var jwks: [[String: String]]
        var stamp: [String]
    }

    public init(directory: URL) { self.directory = directory }

    /// The current key's id.
    public func currentKeyID() async throws -> String { try await loaded().current.keyID }

    /// `glcbt-` + the RS256 JWS of `claims`, signed with the current key (its `kid` in the header).
    func sign(_ claims: JobTokenClaims) async throws -> String {
        let ring = try await loaded(refresh: true)
        return "glcbt-" + (try await ring.verifiers.sign(claims, kid: JWKIdentifier(string: ring.current.keyID)))
    }

    /// The claims of `jws` when one of these keys signed it and its claims hold (audience, version, subject, time); nil otherwise.
    /// No database is involved: a forged or foreign token costs one signature check at most.
    func verify(_ jws: String) async -> JobTokenClaims? {
        guard var ring = try? await loaded() else { return nil }
        if let kid = Self.keyID(ofJWS: jws), !ring.known.contains(kid), let refreshed = try? await loaded(refresh: true) { ring = refreshed }
        return try? await ring.verifiers.verify(jws, as: JobTokenClaims.self)
    }

    /// The public keys of the current and retired keys, for the JWKS.
    public func publicKeys() async throws -> [[String: String]] { try await loaded(refresh: true).jwks }

    /// Retires the current key (kept for verification for `JobTokenClaims.longestLife`) and makes a new one; returns both ids.
    public static func rotate(in directory: URL) throws -> (retired: String, current: String) {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let currentFile = directory.appendingPathComponent(currentName)
        let old = try RSASigningKeyFile.load(currentFile)
        let retired = directory.appendingPathComponent(retiredName, isDirectory: true)
        try FileManager.default.createDirectory(at: retired, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let name = "\(Int64(Date().timeIntervalSince1970))-\(old.keyID).pem"
        // Linked first, then replaced: a token of the old key verifies at every moment.
        if link(currentFile.path, retired.appendingPathComponent(name).path) != 0 && errno != EEXIST {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: retired.path])
        }
        try RSASigningKeyFile.create(currentFile, replacing: true)
        return (old.keyID, try RSASigningKeyFile.read(currentFile).keyID)
    }

    /// The keys, loaded on first use; with `refresh`, looked at again when the last look is over a second old.
    private func loaded(refresh: Bool = false) async throws -> Ring {
        let now = ContinuousClock.now
        if let ring, !refresh || lastCheck.map({ now - $0 < .seconds(1) }) == true { return ring }
        lastCheck = now
        let stamp = Self.stamp(of: directory)
        if let ring, ring.stamp == stamp { return ring }
        let current = try RSASigningKeyFile.load(directory.appendingPathComponent(Self.currentName))
        var keys = [current]
        let retiredDirectory = directory.appendingPathComponent(Self.retiredName, isDirectory: true)
        let cutoff = Date().timeIntervalSince1970 - TimeInterval(JobTokenClaims.longestLife)
        for name in (try? FileManager.default.contentsOfDirectory(atPath: retiredDirectory.path))?.sorted() ?? [] where name.hasSuffix(".pem") {
            let file = retiredDirectory.appendingPathComponent(name)
            guard let retiredAt = name.split(separator: "-", maxSplits: 1).first.flatMap({ TimeInterval(String($0)) }) else { continue }
            // Past the longest token life no token of this key can still be valid: the key is removed.
            if retiredAt < cutoff {
                unlink(file.path)
                continue
            }
            if let key = try? RSASigningKeyFile.read(file), key.keyID != current.keyID { keys.append(key) }
        }
        let verifiers = JWTKeyCollection()
        for key in keys { await verifiers.add(rsa: key.key, digestAlgorithm: .sha256, kid: JWKIdentifier(string: key.keyID)) }
        let ring = Ring(current: current, verifiers: verifiers, known: Set(keys.map(\.keyID)), jwks: keys.map(\.jwk), stamp: Self.stamp(of: directory))
        self.ring = ring
        return ring
    }

    /// What changes when a key is made, rotated or removed: the current file's inode and time, and the retired directory's names.
    private static func stamp(of directory: URL) -> [String] {
        var status = stat()
        let current = stat(directory.appendingPathComponent(currentName).path, &status) == 0 ? "\(status.st_ino)-\(status.st_mtim.tv_sec)-\(status.st_mtim.tv_nsec)" : "none"
        let retired = (try? FileManager.default.contentsOfDirectory(atPath: directory.appendingPathComponent(retiredName).path))?.sorted() ?? []
        return [current] + retired
    }

    /// The `kid` in a JWS header, read without verifying anything (only to know whether the keys should be looked at again).
    static func keyID(ofJWS jws: String) -> String? {
        guard let header = jws.split(separator: ".", maxSplits: 1).first, header.count <= 1024 else { return nil }
        var text = header.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while text.count % 4 != 0 { text += "=" }
        guard let data = Data(base64Encoded: text), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        return object["kid"] as? String
    }
}
