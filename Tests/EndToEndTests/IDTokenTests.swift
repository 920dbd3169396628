import Foundation
import LatchkeyTestSupport
import Testing

/// `id_tokens:` end to end: a real job gets an RS256 OIDC token that a stock client library verifies from the served JWKS.
@Suite("OIDC ID tokens, end to end", .serialized)
struct IDTokenTests {
    let server: LiveServer.Handle

    init() async throws { server = try await LiveServer.shared.start() }

    var root: [String: String] { ["PRIVATE-TOKEN": server.rootToken] }

    static let pyJWTAvailable: Bool = (try? SandboxTests.output("/usr/bin/env", ["python3", "-c", "import jwt, cryptography"])) != nil

    @Test("a job's id token carries GitLab's claims, is masked in the trace, and verifies with PyJWT's PyJWKClient from the JWKS URL")
    func idToken() async throws {
        let name = "oidc-" + String(UUID().uuidString.prefix(6)).lowercased()
        let created = try await HTTP.request("POST", "\(server.url)/api/v4/projects", headers: root, json: ["name": name])
        let projectID = try #require(created.object["id"] as? Int)
        let ci = """
            deploy:
              id_tokens:
                VAULT_ID_TOKEN:
                  aud: https://vault.example
                MULTI_TOKEN:
                  aud: [aws, gcp]
              script:
                - echo "token=$VAULT_ID_TOKEN"
                - '\(JobHandoff.script("$VAULT_ID_TOKEN $MULTI_TOKEN"))'
            """
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-oidc-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        try GitFixtures.git(["init", "-q", "-b", "main", work.path])
        try Data(ci.utf8).write(to: work.appendingPathComponent(".gitlab-ci.yml"))
        try GitFixtures.git(["add", "."], in: work)
        try GitFixtures.git(["commit", "-qm", "ci"], in: work)
        try GitFixtures.git(["push", "-q", server.url.replacingOccurrences(of: "://", with: "://root:\(server.rootToken)@") + "/root/\(name).git", "main"], in: work)
        let handed = try await JobHandoff.take(from: server.buildsDirectory, projectID: projectID).split(separator: " ").map(String.init)
        let token = try #require(handed.first), multi = try #require(handed.last)
        let jobID = try await eventually("the job to succeed") { () -> Int? in
            let jobs = try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(projectID)/jobs", headers: root).array
            guard let job = jobs.first, job["status"] as? String == "success" else { return nil }
            return job["id"] as? Int
        }
        let trace = try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(projectID)/jobs/\(jobID)/trace", headers: root).text
        #expect(trace.contains("token=[MASKED]"), "\(trace)")
        #expect(!trace.contains(token))

        // Discovery: the issuer is the external URL and the JWKS is where it says.
        let discovery = try await HTTP.request("GET", "\(server.url)/.well-known/openid-configuration")
        #expect(discovery.object["issuer"] as? String == server.url)
        let jwksURL = try #require(discovery.object["jwks_uri"] as? String)
        let jwks = try await HTTP.request("GET", jwksURL)
        #expect(((jwks.object["keys"] as? [[String: Any]])?.first?["alg"] as? String) == "RS256")

        try #require(Self.pyJWTAvailable, "PyJWT is not installed (pip install 'pyjwt[crypto]')")
        let script = """
            import json, sys, jwt
            client = jwt.PyJWKClient(sys.argv[1])
            for token, audience in ((sys.argv[2], "https://vault.example"), (sys.argv[3], "gcp")):
                key = client.get_signing_key_from_jwt(token)
                print(json.dumps(jwt.decode(token, key.key, algorithms=["RS256"], audience=audience, issuer=sys.argv[4])))
            try:
                jwt.decode(sys.argv[2], client.get_signing_key_from_jwt(sys.argv[2]).key, algorithms=["RS256"], audience="someone-else")
                print("WRONG-AUDIENCE-ACCEPTED")
            except jwt.InvalidAudienceError:
                print("wrong audience refused")
            """
        let output = try SandboxTests.output("/usr/bin/env", ["python3", "-c", script, jwksURL, token, multi, server.url])
        let lines = output.split(separator: "\n")
        let first = try #require(lines.first.map(String.init), "\(output)")
        let claims = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any], "\(output)")
        #expect(claims["sub"] as? String == "project_path:root/\(name):ref_type:branch:ref:main")
        #expect(claims["project_path"] as? String == "root/\(name)" && claims["project_id"] as? String == String(projectID))
        #expect(claims["job_id"] as? String == String(jobID) && claims["user_login"] as? String == "root")
        #expect(claims["ref_type"] as? String == "branch" && claims["ref_path"] as? String == "refs/heads/main" && claims["pipeline_source"] as? String == "push")
        #expect(claims["namespace_path"] as? String == "root" && claims["runner_environment"] as? String == "self-hosted")
        let iat = try #require(claims["iat"] as? Int), nbf = try #require(claims["nbf"] as? Int), exp = try #require(claims["exp"] as? Int)
        #expect(nbf == iat - 5 && exp == iat + 3600)
        #expect(output.contains("\"aud\": [\"aws\", \"gcp\"]"), "\(output)")
        #expect(output.contains("wrong audience refused"), "\(output)")
    }
}
