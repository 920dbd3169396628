import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JWTKit
import LatchkeyCore
import LatchkeyStore
import LatchkeyTestSupport
import Logging
import Testing
import _CryptoExtras

@testable import LatchkeyServer

@Suite("Signed (JWT) job tokens")
struct SignedJobTokenTests {
    static func jobToken(_ token: String) -> HTTPFields {
        var headers = HTTPFields()
        headers[HTTPField.Name("JOB-TOKEN")!] = token
        return headers
    }

    static func decode(_ segment: some StringProtocol) throws -> [String: Any] {
        var text = segment.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while text.count % 4 != 0 { text += "=" }
        let data = try #require(Data(base64Encoded: text))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// A running job's id and token (a pipeline of RunnerProtocolTests' file, claimed by a registered runner).
    static func runningJob(_ server: TestServer, _ client: any TestClientProtocol) async throws -> (projectID: Int64, jobID: Int, token: String, runner: String) {
        let (projectID, runnerToken) = try await RunnerProtocolTests.setUp(server, client)
        let claimed = try await client.api(.post, "jobs/request", json: ["token": runnerToken])
        #expect(claimed.status == .created)
        return (projectID, try #require(claimed.object["id"] as? Int), try #require(claimed.object["token"] as? String), runnerToken)
    }

    @Test("a job's token is glcbt- and an RS256 JWT with GitLab's header and claims; it works while the job runs and dies when it ends",
        arguments: TestBackend.all)
    func shapeAndLife(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let before = Int(Date().timeIntervalSince1970)
            let (projectID, jobID, token, _) = try await Self.runningJob(server, client)
            let parts = token.dropFirst("glcbt-".count).split(separator: ".", omittingEmptySubsequences: false)
            try #require(token.hasPrefix("glcbt-") && parts.count == 3, "\(token.prefix(12))")
            let header = try Self.decode(parts[0]), claims = try Self.decode(parts[1])
            #expect(header["alg"] as? String == "RS256")
            #expect(header["kid"] as? String == (try await server.environment.jobTokenKeys.currentKeyID()))
            #expect(claims["sub"] as? String == "gid://gitlab/Ci::Build/\(jobID)")
            #expect(claims["aud"] as? String == "gitlab-authz-token")
            #expect(claims["iss"] as? String == "latchkey.test")
            #expect(claims["version"] as? String == "0.1.0")
            #expect(claims["u"] as? String == "1" && claims["p"] as? String == String(projectID, radix: 36))
            #expect(claims["g"] == nil, "a personal project has no group")
            #expect(claims["o"] == nil && claims["c"] == nil && claims["scoped_user_id"] == nil)
            let iat = try #require(claims["iat"] as? Int), nbf = try #require(claims["nbf"] as? Int), exp = try #require(claims["exp"] as? Int)
            #expect(iat >= before && nbf == iat - 5)
            #expect(exp == iat + 3600 + 300, "max(60 s, the job's timeout of an hour) + 5 minutes")
            #expect(UUID(uuidString: try #require(claims["jti"] as? String)) != nil)
            #expect(token.count < JobTokenShape.maximumLength)

            let me = try await client.api(.get, "job", headers: Self.jobToken(token))
            #expect(me.status == .ok && me.object["id"] as? Int == jobID, "\(me.text)")
            // Every way a job token travels: query, Bearer, git's Basic, the registry's Basic.
            #expect(try await client.api(.get, "job?job_token=\(token)").status == .ok)
            #expect(try await client.api(.get, "job", headers: [.authorization: "Bearer \(token)"]).status == .ok)
            let basic = "Basic " + Data("gitlab-ci-token:\(token)".utf8).base64EncodedString()
            let refs = try await client.execute(uri: "/root/app.git/info/refs?service=git-upload-pack", method: .get, headers: [.authorization: basic], body: nil) { $0 }
            #expect(refs.status == .ok)
            let registry = try await client.api(.get, "/jwt/auth?service=container_registry&scope=repository:root/app:pull", headers: [.authorization: basic])
            #expect(registry.status == .ok, "\(registry.text)")
            // A Bearer job token where job tokens are not accepted is ignored, as an opaque one.
            #expect(try await client.api(.get, "user", headers: [.authorization: "Bearer \(token)"]).status == .unauthorized)

            // Its signature and `exp` still hold after the job ends, and still it is refused at once.
            let done = try await client.api(.put, "jobs/\(jobID)", json: ["token": token, "state": "success"])
            #expect(done.status == .ok)
            #expect(try await client.api(.get, "job", headers: Self.jobToken(token)).status == .unauthorized)
            let deadRefs = try await client.execute(uri: "/root/app.git/info/refs?service=git-upload-pack", method: .get, headers: [.authorization: basic], body: nil) { $0 }
            #expect(deadRefs.status == .unauthorized)
            #expect(try await client.api(.put, "jobs/\(jobID)", json: ["token": token, "state": "running"]).status == .forbidden)
            #expect(try await server.store.jobs.sealedSignedToken(jobID: Int64(jobID)) == nil, "the sealed token is cleared with the job's end")
        }
    }

    @Test("the JWKS publishes the job-token key under its own kid beside the ID-token key, and a job token verifies with it offline")
    func jwks() async throws {
        try await withTestServer { server, client in
            let (_, _, token, _) = try await Self.runningJob(server, client)
            let jwks = try await client.api(.get, "/oauth/discovery/keys")
            let keys = try #require(jwks.object["keys"] as? [[String: Any]])
            let kid = try await server.environment.jobTokenKeys.currentKeyID()
            #expect(keys.count == 2, "the ID-token key and the job-token key")
            #expect(keys.contains { $0["kid"] as? String == kid && $0["alg"] as? String == "RS256" && $0["use"] as? String == "sig" })
            #expect(Set(keys.compactMap { $0["kid"] as? String }).count == 2, "each key has its own kid")
            // An outside verifier: the JWKS alone, no call to the server.
            let verifier = JWTKeyCollection()
            try await verifier.add(jwksJSON: jwks.text)
            let claims = try await verifier.verify(String(token.dropFirst("glcbt-".count)), as: JobTokenClaims.self)
            #expect(claims.aud.value == ["gitlab-authz-token"])
        }
    }

    @Test("forged, altered or foreign JWTs are refused without a database lookup: with the database down they get 401, not 503")
    func forgeriesNeedNoDatabase() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("latchkey-forged-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let keys = JobTokenKeys(directory: directory)
        let job = Job(
            id: 7, pipelineID: 1, projectID: 1, name: "build", stage: "build", stageIndex: 0, status: .running, definition: JobDefinition(name: "build", stage: "build", script: ["true"]),
            userID: 1, retried: false, runnerID: nil, failureReason: nil, createdAt: Date(), queuedAt: nil, startedAt: nil, finishedAt: nil, updatedAt: Date())
        let project = Project(
            id: 1, name: "app", path: "app", namespace: Namespace(id: 1, kind: .user, name: "root", path: "root", fullPath: "root", groupID: nil, ownerID: 1),
            visibility: .private, description: "", defaultBranch: "main", creatorID: 1, createdAt: Date(), lastActivityAt: Date())
        let claims = JobTokenClaims.make(job: job, project: project, userID: 1, host: "latchkey.test", timeout: 3600)
        let genuine = try await keys.sign(claims)
        let jws = String(genuine.dropFirst("glcbt-".count))
        let parts = jws.split(separator: ".").map(String.init)
        var other = claims
        other.sub = .init(value: "gid://gitlab/Ci::Build/8")
        let altered = "glcbt-\(parts[0]).\(Self.base64URL(try JSONEncoder().encode(other))).\(parts[2])"
        // Another key under the same kid.
        let stranger = JWTKeyCollection()
        await stranger.add(rsa: try Insecure.RSA.PrivateKey(pem: try _RSA.Signing.PrivateKey(keySize: .bits2048).pemRepresentation), digestAlgorithm: .sha256,
            kid: JWKIdentifier(string: try await keys.currentKeyID()))
        let foreign = "glcbt-" + (try await stranger.sign(claims, kid: JWKIdentifier(string: try await keys.currentKeyID())))
        let unsigned = "glcbt-\(Self.base64URL(Data(#"{"alg":"none","typ":"JWT"}"#.utf8))).\(parts[1]).\(parts[2])"
        var expired = claims
        expired.exp = .init(value: Date().addingTimeInterval(-1))
        let stale = try await keys.sign(expired)
        var wrongAudience = claims
        wrongAudience.aud = .init(value: ["someone-else"])
        let misdirected = try await keys.sign(wrongAudience)
        var wrongVersion = claims
        wrongVersion.version = "9.9.9"
        let unversioned = try await keys.sign(wrongVersion)
        var notAJob = claims
        notAJob.sub = .init(value: "gid://gitlab/User/1")
        let userSubject = try await keys.sign(notAJob)
        let huge = "glcbt-\(parts[0]).\(String(repeating: "A", count: JobTokenShape.maximumLength)).\(parts[2])"

        for forged in [altered, foreign, unsigned, stale, misdirected, unversioned, userSubject, huge] {
            #expect(await keys.verify(String(forged.dropFirst("glcbt-".count))) == nil, "\(forged.prefix(40))")
        }
        #expect(await keys.verify(jws)?.jobID == 7)

        try await Self.withDownDatabase(dataDirectory: directory) { client in
            for forged in [altered, foreign, unsigned, stale, misdirected, unversioned, userSubject, huge] {
                let response = try await client.api(.get, "job", headers: Self.jobToken(forged))
                #expect(response.status == .unauthorized, "\(forged.prefix(40)): \(response.status)")
            }
            // A genuine JWT and an opaque token need the database to say whether their job runs.
            try await DatabaseUnavailableTests.expectUnavailable(client, .get, "job", headers: Self.jobToken(genuine))
            try await DatabaseUnavailableTests.expectUnavailable(client, .get, "job", headers: Self.jobToken(SecretToken.mint(.jobToken).value))
        }
    }

    @Test("an ID token, signed by the OIDC key, is never a job token, even given the job token's claims")
    func idTokenIsNoJobToken() async throws {
        try await withTestServer { server, client in
            let (_, jobID, token, _) = try await Self.runningJob(server, client)
            let claims = try Self.decode(token.dropFirst(6).split(separator: ".")[1])
            let signer = try await IDTokenKeys(directory: server.environment.settings.dataDirectory).signer()
            let payload = try JSONDecoder().decode(JobTokenClaims.self, from: try JSONSerialization.data(withJSONObject: claims))
            let forged = "glcbt-" + (try await signer.keys.sign(payload, kid: JWKIdentifier(string: signer.keyID)))
            #expect(payload.jobID == Int64(jobID))
            #expect(try await client.api(.get, "job", headers: Self.jobToken(forged)).status == .unauthorized)
            #expect(try await client.api(.get, "job", headers: Self.jobToken(token)).status == .ok)
        }
    }

    @Test("job_token_format: jwt accepts an opaque token minted before, jwt_only refuses it, opaque mints opaque tokens", arguments: TestBackend.all)
    func formats(backend: TestBackend) async throws {
        for format in JobTokenFormat.allCases {
            try await withTestServer(backend, configure: { $0.jobTokenFormat = format }) { server, client in
                let (_, jobID, token, _) = try await Self.runningJob(server, client)
                #expect(JobTokenShape.of(token) == (format == .opaque ? .opaque : .jwt(String(token.dropFirst(6)))), "\(format)")
                #expect(try await client.api(.get, "job", headers: Self.jobToken(token)).status == .ok, "\(format)")
                guard format != .opaque else { return }
                // The job as an earlier release claimed it: an opaque token derived from its nonce.
                let nonce = try #require(try await server.store.jobs.tokenNonce(jobID: Int64(jobID)))
                let opaque = server.environment.digester.derive(.jobToken, nonce: nonce)
                #expect(try await server.store.jobs.issueSignedToken(jobID: Int64(jobID), nonce: nonce, tokenDigest: server.environment.digester.digest(opaque), sealed: "x"))
                let status = try await client.api(.get, "job", headers: Self.jobToken(opaque.value)).status
                #expect(status == (format == .jwt ? .ok : .unauthorized), "\(format)")
                #expect(try await client.api(.get, "job", headers: Self.jobToken(token)).status == .unauthorized, "the JWT's digest is no longer the job's")
            }
        }
    }

    @Test("the server masks a JWT job token whole and in parts in a trace, whatever the runner sent")
    func serverMasking() async throws {
        try await withTestServer { server, client in
            let (projectID, jobID, token, _) = try await Self.runningJob(server, client)
            let parts = token.dropFirst(6).split(separator: ".").map(String.init)
            let text = "whole \(token)\nbody \(token.dropFirst(6))\nsig \(parts[2])\npayload \(parts[1])\nb64 \(Data(token.utf8).base64EncodedString())\n"
            var headers = Self.jobToken(token)
            headers[.contentRange] = "0-\(text.utf8.count - 1)"
            let patch = try await client.execute(uri: "/api/v4/jobs/\(jobID)/trace", method: .patch, headers: headers, body: .init(bytes: Array(text.utf8))) { $0 }
            #expect(patch.status == .accepted)
            #expect(try await client.api(.put, "jobs/\(jobID)", json: ["token": token, "state": "success"]).status == .ok)
            let trace = try await client.api(.get, "projects/\(projectID)/jobs/\(jobID)/trace", token: server.rootToken).text
            #expect(trace.hasPrefix("whole [MASKED]\nbody [MASKED]\nsig [MASKED]\npayload [MASKED]\nb64 "), "\(trace.prefix(200))")
            for part in parts[1...] { #expect(!trace.contains(part.prefix(24))) }
            #expect(!trace.contains(Data(token.utf8).base64EncodedString().dropFirst(200).prefix(40)))
        }
    }

    @Test("a rotated key keeps its tokens verifying and stays in the JWKS; new jobs get the new kid; a key past the longest token life is dropped")
    func rotation() async throws {
        try await withTestServer { server, client in
            let (projectID, jobID, token, runner) = try await Self.runningJob(server, client)
            let keys = server.environment.jobTokenKeys
            let old = try await keys.currentKeyID()
            let directory = server.environment.settings.dataDirectory
            let (retired, current) = try JobTokenKeys.rotate(in: directory)
            #expect(retired == old && current != old)
            let attributes = try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent("job-token-key.pem").path)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            // Another instance's rotation is seen within a second; poll, never sleep.
            let kids = try await poll { () -> Set<String>? in
                let keys = try await client.api(.get, "/oauth/discovery/keys").object["keys"] as? [[String: Any]] ?? []
                let kids = Set(keys.compactMap { $0["kid"] as? String })
                return kids.contains(current) ? kids : nil
            }
            #expect(kids.contains(old), "the retired key still verifies offline")
            #expect(try await client.api(.get, "job", headers: Self.jobToken(token)).status == .ok)
            #expect(try await client.api(.put, "jobs/\(jobID)", json: ["token": token, "state": "success"]).status == .ok)
            let next = try await client.api(.post, "jobs/request", json: ["token": runner])
            let nextToken = try #require(next.object["token"] as? String)
            #expect(try Self.decode(nextToken.dropFirst(6).split(separator: ".")[0])["kid"] as? String == current)
            #expect(try await client.api(.get, "job", headers: Self.jobToken(nextToken)).status == .ok)
            _ = projectID

            // A key retired longer ago than any token lives is removed at the next look.
            let retiredDirectory = directory.appendingPathComponent("job-token-keys-retired")
            let name = try #require(try FileManager.default.contentsOfDirectory(atPath: retiredDirectory.path).first)
            let ancient = "\(Int(Date().timeIntervalSince1970) - JobTokenClaims.longestLife - 60)-\(old).pem"
            try FileManager.default.moveItem(at: retiredDirectory.appendingPathComponent(name), to: retiredDirectory.appendingPathComponent(ancient))
            _ = try await poll { () -> Bool? in
                let keys = try await client.api(.get, "/oauth/discovery/keys").object["keys"] as? [[String: Any]] ?? []
                return keys.contains { $0["kid"] as? String == old } ? nil : true
            }
            #expect(!FileManager.default.fileExists(atPath: retiredDirectory.appendingPathComponent(ancient).path))
        }
    }

    /// A router over the job-token keys of `dataDirectory` whose PostgreSQL server is down (nothing listens on its port).
    static func withDownDatabase(dataDirectory: URL, _ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        var logger = Logger(label: "latchkey.test")
        logger.logLevel = .critical
        let port = try ClosedPort.get()
        let client = try Database.postgresClient(url: "postgres://latchkey:pw@127.0.0.1:\(port)/latchkey", logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            var settings = ServerSettings(dataDirectory: dataDirectory, embeddedRunners: 0, logLevel: .critical, passwordCost: 4)
            settings.databaseTimeout = .milliseconds(300)
            let database = Database.postgres(client: client, connectionTimeout: settings.databaseTimeout)
            let environment = try await makeEnvironment(settings: settings, database: database, logger: logger)
            let app = Application(router: try await buildRouter(environment: environment), logger: logger)
            try await app.test(.router) { client in try await body(client) }
        }
    }

    /// Polls `condition` until it returns a value, for at most 30 seconds.
    func poll<T: Sendable>(_ condition: @Sendable () async throws -> T?) async throws -> T {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let value = try await condition() { return value }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw CancellationError()
    }
}
