import Foundation
import LatchkeyCore
import LatchkeyTestSupport
import Testing

/// Signed (JWT) job tokens end to end: a real job's CI_JOB_TOKEN is a `glcbt-` JWT that curl, git and python-gitlab use while it
/// runs, that PyJWT verifies from the served JWKS, that never shows in the trace, and that is refused once the job has ended.
@Suite("Signed job tokens, end to end", .serialized)
struct SignedJobTokenTests {
    let server: LiveServer.Handle

    init() async throws { server = try await LiveServer.shared.start() }

    var root: [String: String] { ["PRIVATE-TOKEN": server.rootToken] }

    /// Waits for a job of project `projectID` to write its token to `.handoff`; returns it and the job's directory, where
    /// `.release` lets the job end. (Other suites' jobs hand values over on the same server at the same time.)
    func takeToken(projectID: Int) async throws -> (token: String, directory: URL) {
        let builds = server.buildsDirectory
        return try await eventually("a job to hand its token over") { () -> (String, URL)? in
            for name in (try? FileManager.default.contentsOfDirectory(atPath: builds.path)) ?? [] where !name.hasSuffix(".tmp") && !name.hasSuffix(".id") {
                let directory = builds.appendingPathComponent(name)
                guard (try? String(contentsOf: directory.appendingPathComponent(".handoff-project"), encoding: .utf8)) == String(projectID) else { continue }
                guard let text = try? String(contentsOf: directory.appendingPathComponent(".handoff"), encoding: .utf8), !text.isEmpty else { continue }
                try? FileManager.default.removeItem(at: directory.appendingPathComponent(".handoff"))
                return (text, directory)
            }
            return nil
        }
    }

    /// Clones `path` with `gitlab-ci-token:<token>`; the exit status and git's output.
    func clone(_ path: String, token: String) throws -> (Int32, String) {
        let target = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-jwt-clone-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: target) }
        let url = server.url.replacingOccurrences(of: "://", with: "://gitlab-ci-token:\(token)@") + "/\(path).git"
        let (status, output) = try Subprocess.collect(["/usr/bin/env", "GIT_TERMINAL_PROMPT=0", "git", "clone", "-q", url, target.path], error: .output)
        return (status, String(decoding: output, as: UTF8.self))
    }

    @Test("CI_JOB_TOKEN is a glcbt- JWT: curl, git and python-gitlab use it while the job runs, PyJWT verifies it from the JWKS, the trace masks it whole and in parts, and it is dead when the job ends")
    func signedJobToken() async throws {
        let name = "jwt-" + String(UUID().uuidString.prefix(6)).lowercased()
        let created = try await HTTP.request("POST", "\(server.url)/api/v4/projects", headers: root, json: ["name": name])
        let projectID = try #require(created.object["id"] as? Int)
        let ci = """
            job:
              script:
                - 'curl -sf -H "JOB-TOKEN: $CI_JOB_TOKEN" "$CI_API_V4_URL/job" > job.json && echo "job api ok"'
                - 'git clone -q "$CI_REPOSITORY_URL" cloned && test -f cloned/.gitlab-ci.yml && echo "clone ok"'
                - echo "token=$CI_JOB_TOKEN"
                - 'echo "body=${CI_JOB_TOKEN#glcbt-}"'
                - 'echo "signature=$(printf %s "$CI_JOB_TOKEN" | cut -d. -f3)"'
                - 'echo "payload=$(printf %s "$CI_JOB_TOKEN" | cut -d. -f2)"'
                - 'echo "base64=$(printf %s "$CI_JOB_TOKEN" | base64 -w0)"'
                - 'printf "%s" "$CI_PROJECT_ID" > "$CI_PROJECT_DIR/.handoff-project"; printf "%s" "$CI_JOB_TOKEN" > "$CI_PROJECT_DIR/.handoff"; for i in $(seq 900); do [ -e "$CI_PROJECT_DIR/.release" ] && break; sleep 0.1; done'
            """
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-jwt-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        try GitFixtures.git(["init", "-q", "-b", "main", work.path])
        try Data(ci.utf8).write(to: work.appendingPathComponent(".gitlab-ci.yml"))
        try GitFixtures.git(["add", "."], in: work)
        try GitFixtures.git(["commit", "-qm", "ci"], in: work)
        try GitFixtures.git(["push", "-q", server.url.replacingOccurrences(of: "://", with: "://root:\(server.rootToken)@") + "/root/\(name).git", "main"], in: work)

        let (token, directory) = try await takeToken(projectID: projectID)
        let parts = token.dropFirst("glcbt-".count).split(separator: ".").map(String.init)
        try #require(token.hasPrefix("glcbt-") && parts.count == 3, "\(token.prefix(10))")

        // While the job runs: curl's recipe, git, python-gitlab's job_token.
        let me = try await HTTP.request("GET", "\(server.url)/api/v4/job", headers: ["JOB-TOKEN": token])
        #expect(me.status == 200, "\(me.text)")
        let jobID = try #require(me.object["id"] as? Int)
        let (cloneStatus, cloneOutput) = try clone("root/\(name)", token: token)
        #expect(cloneStatus == 0, "\(cloneOutput)")
        let pythonGitLab = """
            import sys, gitlab
            gl = gitlab.Gitlab(sys.argv[1], job_token=sys.argv[2])
            print("job", gl.http_get("/job")["id"])
            """
        let python = try SandboxTests.output("/usr/bin/env", ["python3", "-c", pythonGitLab, server.url, token])
        #expect(python.contains("job \(jobID)"), "\(python)")

        // Offline: the JWKS the server publishes is all a verifier needs.
        try #require(IDTokenTests.pyJWTAvailable, "PyJWT is not installed (pip install 'pyjwt[crypto]')")
        let verify = """
            import json, sys, jwt
            client = jwt.PyJWKClient(sys.argv[1])
            token = sys.argv[2][len("glcbt-"):]
            key = client.get_signing_key_from_jwt(token)
            print(json.dumps({"kid": key.key_id, "claims": jwt.decode(token, key.key, algorithms=["RS256"], audience="gitlab-authz-token", issuer=sys.argv[3])}))
            forged = token[:-8] + ("AAAAAAAA" if not token.endswith("AAAAAAAA") else "BBBBBBBB")
            try:
                jwt.decode(forged, key.key, algorithms=["RS256"], audience="gitlab-authz-token")
                print("FORGED-ACCEPTED")
            except jwt.InvalidSignatureError:
                print("forged refused")
            """
        let host = try #require(URL(string: server.url)?.host)
        let verified = try SandboxTests.output("/usr/bin/env", ["python3", "-c", verify, "\(server.url)/oauth/discovery/keys", token, host])
        let first = try #require(verified.split(separator: "\n").first.map(String.init), "\(verified)")
        let decoded = try #require(try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any], "\(verified)")
        let claims = try #require(decoded["claims"] as? [String: Any])
        #expect(claims["sub"] as? String == "gid://gitlab/Ci::Build/\(jobID)")
        #expect(claims["version"] as? String == "0.1.0" && claims["iss"] as? String == host)
        let iat = try #require(claims["iat"] as? Int), exp = try #require(claims["exp"] as? Int)
        #expect(exp == iat + 3600 + 300)
        #expect(verified.contains("forged refused"), "\(verified)")

        // The job ends; from then on the token is refused though its signature and `exp` still hold.
        #expect(FileManager.default.createFile(atPath: directory.appendingPathComponent(".release").path, contents: Data()))
        let status = try await eventually("the job to finish") { () -> String? in
            let job = try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(projectID)/jobs/\(jobID)", headers: root)
            guard let status = job.object["status"] as? String, ["success", "failed", "canceled"].contains(status) else { return nil }
            return status
        }
        let trace = try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(projectID)/jobs/\(jobID)/trace", headers: root).text
        #expect(status == "success", "\(trace)")
        #expect(trace.contains("job api ok") && trace.contains("clone ok"), "\(trace)")
        for line in ["token=[MASKED]", "body=[MASKED]", "signature=[MASKED]", "payload=[MASKED]"] { #expect(trace.contains(line), "\(line) in \(trace)") }
        for part in parts[1...] { #expect(!trace.contains(part.prefix(20)), "a part of the token leaked: \(trace)") }
        #expect(!trace.contains(Data(token.utf8).base64EncodedString().dropFirst(150).prefix(30)), "\(trace)")

        let dead = try await HTTP.request("GET", "\(server.url)/api/v4/job", headers: ["JOB-TOKEN": token])
        #expect(dead.status == 401 && dead.object["message"] as? String == "401 Unauthorized")
        let (deadClone, deadOutput) = try clone("root/\(name)", token: token)
        #expect(deadClone != 0, "\(deadOutput)")
        #expect(!deadOutput.contains(parts[2].prefix(20)), "git's refusal does not echo the token")
        #expect(throws: (any Error).self) { try SandboxTests.output("/usr/bin/env", ["python3", "-c", pythonGitLab, server.url, token]) }
    }

    @Test("job_token_format is checked at start, and admin rotate-job-token-key retires the key into a 0600 file beside a new one")
    func settingAndRotation() throws {
        let directory = CommandLineTests.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let bad = try CommandLineTests.run(["serve", "--data-dir", directory, "--job-token-format", "signed"])
        #expect(bad.status == 64 && bad.output.contains("unknown job token format signed: use jwt, jwt_only or opaque"), "\(bad.output)")
        let fromEnvironment = try CommandLineTests.run(["serve", "--data-dir", directory], environment: ["LATCHKEY_JOB_TOKEN_FORMAT": "JWT-ONLY"])
        #expect(fromEnvironment.status == 64 && fromEnvironment.output.contains("unknown job token format"), "\(fromEnvironment.output)")
        let rotated = try CommandLineTests.run(["admin", "rotate-job-token-key", "--data-dir", directory])
        #expect(rotated.status == 0, "\(rotated.output)")
        let again = try CommandLineTests.run(["admin", "rotate-job-token-key", "--data-dir", directory])
        #expect(again.status == 0, "\(again.output)")
        let retired = URL(fileURLWithPath: directory).appendingPathComponent("job-token-keys-retired")
        let names = try FileManager.default.contentsOfDirectory(atPath: retired.path).filter { $0.hasSuffix(".pem") }
        #expect(names.count == 2, "\(names)")
        for path in names.map({ retired.appendingPathComponent($0).path }) + [directory + "/job-token-key.pem"] {
            #expect((try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) == 0o600, "\(path)")
        }
    }
}
