import Foundation
import HTTPTypes
import HummingbirdTesting
import JWTKit
import LatchkeyCore
import LatchkeyTestSupport
import Testing

@testable import LatchkeyServer

@Suite("Container registry token service")
struct RegistryTokenTests {
    /// The parts of a registry JWT the tests look at.
    struct Token {
        var header: [String: Any]
        var claims: [String: Any]
        var raw: String

        /// `access` as `name → actions`.
        var access: [String: [String]] {
            var result: [String: [String]] = [:]
            for entry in claims["access"] as? [[String: Any]] ?? [] {
                #expect(entry["type"] as? String == "repository")
                result[entry["name"] as? String ?? ""] = entry["actions"] as? [String] ?? []
            }
            return result
        }

        init(_ jwt: String) throws {
            raw = jwt
            let parts = jwt.split(separator: ".").map(String.init)
            try #require(parts.count == 3, "not a JWS: \(parts.count) parts")
            header = try #require(try JSONSerialization.jsonObject(with: Self.base64URL(parts[0])) as? [String: Any])
            claims = try #require(try JSONSerialization.jsonObject(with: Self.base64URL(parts[1])) as? [String: Any])
        }

        static func base64URL(_ text: String) throws -> Data {
            var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            while base64.count % 4 != 0 { base64 += "=" }
            return try #require(Data(base64Encoded: base64))
        }
    }

    /// What the registry checks, to verify the signature with the certificate the registry is given.
    struct RegistryClaims: JWTPayload {
        var iss: IssuerClaim
        var aud: AudienceClaim
        var exp: ExpirationClaim

        func verify(using algorithm: some JWTAlgorithm) async throws { try exp.verifyNotExpired() }
    }

    /// A world: `dev` owns `dev/app` (with a running job), is a Developer of `root/shared` (whose allowlist admits `dev/app`)
    /// and of `root/closed` (whose does not), and is nothing on `root/hidden`; `root/open` is public; `viewer` is a Reporter of `root/shared`.
    struct World {
        var devToken: String
        var viewerToken: String
        var jobToken: String
        var jobID: Int64
        var runnerToken: String
    }

    static func world(_ server: TestServer, _ client: any TestClientProtocol) async throws -> World {
        let (dev, devToken) = try await server.makeUser("dev")
        let (viewer, viewerToken) = try await server.makeUser("viewer")
        let app = try await client.createProject(["name": "app"], token: devToken).id
        let shared = try await client.createProject(["name": "shared"], token: server.rootToken).id
        let closed = try await client.createProject(["name": "closed"], token: server.rootToken).id
        _ = try await client.createProject(["name": "hidden"], token: server.rootToken)
        _ = try await client.createProject(["name": "open", "visibility": "public"], token: server.rootToken)
        try await client.addMember("projects", shared, userID: dev.id, level: Level.developer, token: server.rootToken)
        try await client.addMember("projects", closed, userID: dev.id, level: Level.developer, token: server.rootToken)
        try await client.addMember("projects", shared, userID: viewer.id, level: Level.reporter, token: server.rootToken)
        let allowed = try await client.api(.post, "projects/\(shared)/job_token_scope/allowlist", token: server.rootToken, json: ["target_project_id": app])
        try #require(allowed.status == .created, "\(allowed.text)")

        try GitFixtures.commit([".gitlab-ci.yml": "build:\n  script: echo build\n"], to: server.environment.repositories.path(projectID: app))
        let pipeline = try await client.api(.post, "projects/\(app)/pipeline", token: devToken, json: ["ref": "main"])
        try #require(pipeline.status == .created, "\(pipeline.text)")
        let registrationToken = try await server.environment.registrationToken()
        let runner = try await client.api(.post, "runners", json: ["token": registrationToken])
        let runnerToken = try #require(runner.object["token"] as? String)
        let claimed = try await client.api(.post, "jobs/request", json: ["token": runnerToken])
        try #require(claimed.status == .created, "no job claimed: \(claimed.status)")
        return World(
            devToken: devToken, viewerToken: viewerToken, jobToken: try #require(claimed.object["token"] as? String), jobID: claimed.id,
            runnerToken: runnerToken)
    }

    static func basic(_ username: String, _ password: String) -> HTTPFields {
        [.authorization: "Basic " + Data("\(username):\(password)".utf8).base64EncodedString()]
    }

    /// `GET /jwt/auth` for the scopes, as a registry client asks after a 401.
    static func auth(_ client: any TestClientProtocol, _ scopes: [String], headers: HTTPFields) async throws -> APIResponse {
        let query = (["service=container_registry"] + scopes.map { "scope=" + $0.addingPercentEncoding(withAllowedCharacters: .alphanumerics)! }).joined(separator: "&")
        return try await client.api(.get, "/jwt/auth?" + query, headers: headers)
    }

    static func token(_ client: any TestClientProtocol, _ scopes: [String], headers: HTTPFields, sourceLocation: SourceLocation = #_sourceLocation) async throws -> Token {
        let response = try await auth(client, scopes, headers: headers)
        try #require(response.status == .ok, "\(response.status) \(response.text)", sourceLocation: sourceLocation)
        return try Token(try #require(response.object["token"] as? String, sourceLocation: sourceLocation))
    }

    @Test("a job token gets an RS256 JWT signed by the registry certificate's key, with GitLab's claims", arguments: TestBackend.all)
    func jwtShape(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let world = try await Self.world(server, client)
            let before = Date()
            let response = try await Self.auth(client, ["repository:dev/app:pull,push"], headers: Self.basic("gitlab-ci-token", world.jobToken))
            #expect(response.status == .ok)
            #expect(response.header("Content-Type")?.hasPrefix("application/json") == true)
            #expect(Array(response.object.keys) == ["token"], "GitLab answers only the token")
            let token = try Token(try #require(response.object["token"] as? String))

            let directory = server.environment.settings.dataDirectory
            let keys = try RegistryKeys.load(in: directory)
            #expect(token.header["alg"] as? String == "RS256")
            #expect(token.header["kid"] as? String == keys.keyID)
            // libtrust: 240 bits of SHA-256 in base32, as 12 groups of 4.
            #expect(keys.keyID.split(separator: ":").count == 12)
            #expect(keys.keyID.split(separator: ":").allSatisfy { $0.count == 4 && $0.allSatisfy { "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".contains($0) } })

            #expect(token.claims["iss"] as? String == "latchkey")
            #expect(token.claims["aud"] as? String == "container_registry")
            #expect(token.claims["sub"] as? String == "dev", "the job's user, as GitLab")
            let exp = try #require(token.claims["exp"] as? Double)
            #expect(exp > before.timeIntervalSince1970 + 60 && exp <= Date().timeIntervalSince1970 + 301)
            #expect(try #require(token.claims["nbf"] as? Double) <= Date().timeIntervalSince1970)
            #expect(token.claims["jti"] is String)
            for claim in ["exp", "nbf", "iat"] {
                let seconds = try #require(token.claims[claim] as? NSNumber, "\(claim)").doubleValue
                #expect(seconds == seconds.rounded(), "docker/distribution refuses \(claim) with a fraction")
            }
            #expect(token.access == ["dev/app": ["pull", "push"]])
            #expect(!token.raw.contains(world.jobToken))

            // The certificate handed to the registry (`rootcertbundle`) verifies the signature.
            let certificate = try String(contentsOf: directory.appendingPathComponent("registry-cert.pem"), encoding: .utf8)
            let verifier = JWTKeyCollection()
            await verifier.add(rsa: try Insecure.RSA.PublicKey(certificatePEM: certificate), digestAlgorithm: .sha256, kid: JWKIdentifier(string: keys.keyID))
            let verified = try await verifier.verify(token.raw, as: RegistryClaims.self)
            #expect(verified.iss.value == "latchkey")

            // The key pair stays the same across restarts (it lives in the data directory).
            #expect(try RegistryKeys.load(in: directory).keyID == keys.keyID)
        }
    }

    @Test("the signing key is made once with mode 0600, and a lost certificate is derived again from the same key")
    func keyFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("registry-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = try RegistryKeys.load(in: directory)
        let keyFile = directory.appendingPathComponent("registry-key.pem")
        let certificateFile = directory.appendingPathComponent("registry-cert.pem")
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: keyFile.path)[.posixPermissions] as? NSNumber).intValue
        #expect(mode & 0o077 == 0, "the private key is readable by its owner only")
        #expect(first.certificatePEM.hasPrefix("-----BEGIN CERTIFICATE-----"))
        #expect(try RegistryKeys.load(in: directory).keyID == first.keyID)

        try FileManager.default.removeItem(at: certificateFile)
        let healed = try RegistryKeys.load(in: directory)
        #expect(healed.keyID == first.keyID)
        #expect(healed.privateKeyPEM == first.privateKeyPEM)
        let publicKey = try Insecure.RSA.PublicKey(certificatePEM: try String(contentsOf: certificateFile, encoding: .utf8))
        #expect(try publicKey.getKeyPrimitives().modulus == (try Insecure.RSA.PrivateKey(pem: first.privateKeyPEM).publicKey.getKeyPrimitives().modulus))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == ["registry-cert.pem", "registry-key.pem"], "no temporary files left")
    }

    @Test("a job token pulls its own and allowlisted projects, pushes only its own, and gets nothing elsewhere", arguments: TestBackend.all)
    func jobTokenAccess(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let world = try await Self.world(server, client)
            let job = Self.basic("gitlab-ci-token", world.jobToken)
            let scopes = [
                "repository:dev/app:pull,push", "repository:dev/app/tools/builder:pull,push", "repository:root/shared:pull,push",
                "repository:root/shared/base:pull", "repository:root/closed:pull", "repository:root/hidden:pull,push", "repository:root/open:pull,push",
                "repository:nobody/nothing:pull", "registry:catalog:*",
            ]
            let token = try await Self.token(client, scopes, headers: job)
            #expect(
                token.access == [
                    "dev/app": ["pull", "push"], "dev/app/tools/builder": ["pull", "push"], "root/shared": ["pull"], "root/shared/base": ["pull"],
                    "root/open": ["pull"],
                ])
            // Deleting needs more than a job token may have.
            #expect(try await Self.token(client, ["repository:dev/app:delete"], headers: job).access.isEmpty)

            // Removing the allowlist entry takes the pull away at once.
            let shared = try await client.api(.get, "projects/root%2Fshared", token: server.rootToken).id
            let app = try await client.api(.get, "projects/dev%2Fapp", token: server.rootToken).id
            #expect(try await client.api(.delete, "projects/\(shared)/job_token_scope/allowlist/\(app)", token: server.rootToken).status == .noContent)
            #expect(try await Self.token(client, ["repository:root/shared:pull"], headers: job).access.isEmpty)
            // With the target's scope switched off, the user's own role decides again (pull; push still only on the own project).
            let disabled = try await client.api(.patch, "projects/\(shared)/job_token_scope", token: server.rootToken, json: ["enabled": false])
            #expect(disabled.status == .noContent)
            #expect(try await Self.token(client, ["repository:root/shared:pull,push"], headers: job).access == ["root/shared": ["pull"]])
        }
    }

    @Test("a finished job's token, a bogus one, a wrong password or a wrong PAT get 401 with a Basic challenge", arguments: TestBackend.all)
    func badCredentials(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let world = try await Self.world(server, client)
            let finished = try await client.api(.put, "jobs/\(world.jobID)", json: ["token": world.jobToken, "state": "failed", "failure_reason": "script_failure"])
            #expect(finished.status == .ok)
            let attempts: [HTTPFields] = [
                Self.basic("gitlab-ci-token", world.jobToken),
                Self.basic("gitlab-ci-token", "glcbt-bogus"),
                Self.basic("dev", "wrong-password"),
                Self.basic("dev", "glpat-" + String(repeating: "x", count: 20)),
                Self.basic("dev", world.jobToken),
            ]
            for headers in attempts {
                let response = try await Self.auth(client, ["repository:dev/app:pull"], headers: headers)
                #expect(response.status == .unauthorized)
                #expect(response.header("WWW-Authenticate") == "Basic realm=\"GitLab\"")
                let errors = response.object["errors"] as? [[String: Any]]
                #expect(errors?.first?["code"] as? String == "UNAUTHORIZED")
                #expect((errors?.first?["message"] as? String)?.hasPrefix("HTTP Basic: Access denied") == true)
                #expect(!response.text.contains(world.jobToken))
            }
            let wrongService = try await client.api(.get, "/jwt/auth?service=other&scope=repository:dev/app:pull", headers: Self.basic("dev", world.devToken))
            #expect(wrongService.status == .badRequest)
        }
    }

    @Test("users get what their role allows with a personal access token or password; anonymous pulls only public images", arguments: TestBackend.all)
    func users(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let world = try await Self.world(server, client)
            let scopes = ["repository:dev/app:pull,push", "repository:root/shared:pull,push", "repository:root/closed:pull,push", "repository:root/hidden:pull", "repository:root/open:pull,push"]
            // A user is not limited by job token scopes: the Developer role on a project allows pull and push.
            let dev = try await Self.token(client, scopes, headers: Self.basic("dev", world.devToken))
            #expect(dev.claims["sub"] as? String == "dev")
            #expect(dev.access == ["dev/app": ["pull", "push"], "root/shared": ["pull", "push"], "root/closed": ["pull", "push"], "root/open": ["pull"]])
            let password = try await Self.token(client, scopes, headers: Self.basic("dev", "dev-password"))
            #expect(password.access == dev.access)
            // A Reporter pulls and does not push.
            let viewer = try await Self.token(client, scopes, headers: Self.basic("viewer", world.viewerToken))
            #expect(viewer.access == ["root/shared": ["pull"], "root/open": ["pull"]])
            // Root (an administrator) reaches everything.
            let root = try await Self.token(client, ["repository:root/hidden:pull,push"], headers: Self.basic("root", server.rootToken))
            #expect(root.access == ["root/hidden": ["pull", "push"]])
            // Without credentials: a token with public pulls only (as `docker pull` of a public image).
            let anonymous = try await Self.token(client, scopes, headers: [:])
            #expect(anonymous.access == ["root/open": ["pull"]])
            #expect(anonymous.claims["sub"] == nil)
        }
    }
}
