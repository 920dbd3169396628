import Foundation
import LatchkeyTestSupport
import Testing

/// `artifacts:reports:dotenv` end to end: the real runner gzips the report, the server reads it, a later job's shell sees it.
@Suite("dotenv reports, end to end", .serialized)
struct DotenvEndToEndTests {
    let server: LiveServer.Handle

    init() async throws { server = try await LiveServer.shared.start() }

    var root: [String: String] { ["PRIVATE-TOKEN": server.rootToken] }

    @Test("a build job's dotenv variables reach a later job's environment; a report that sets CI_API_V4_URL fails its job")
    func flow() async throws {
        let name = "dotenv-" + String(UUID().uuidString.prefix(6)).lowercased()
        let created = try await HTTP.request("POST", "\(server.url)/api/v4/projects", headers: root, json: ["name": name])
        let projectID = try #require(created.object["id"] as? Int)
        let ci = """
            stages: [build, deploy]
            build:
              stage: build
              script:
                - echo "BUILD_VERSION=1.2.$((40 + 2))" > build.env
                - echo "DEPLOY_URL=https://example.com/app" >> build.env
              artifacts:
                reports:
                  dotenv: build.env
            hijack:
              stage: build
              script:
                - echo "CI_API_V4_URL=https://attacker.example/api/v4" > evil.env
              artifacts:
                reports:
                  dotenv: evil.env
            deploy:
              stage: deploy
              needs: [build]
              script:
                - echo "deploying version=$BUILD_VERSION to=$DEPLOY_URL api=$CI_API_V4_URL"
            """
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("e2e-dotenv-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: work) }
        try GitFixtures.git(["init", "-q", "-b", "main", work.path])
        try Data(ci.utf8).write(to: work.appendingPathComponent(".gitlab-ci.yml"))
        try GitFixtures.git(["add", "."], in: work)
        try GitFixtures.git(["commit", "-qm", "ci"], in: work)
        try GitFixtures.git(["push", "-q", server.url.replacingOccurrences(of: "://", with: "://root:\(server.rootToken)@") + "/root/\(name).git", "main"], in: work)
        let server = self.server, root = self.root
        let jobs = try await eventually("deploy and hijack to finish") { () -> [String: FinishedJob]? in
            let list = try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(projectID)/jobs", headers: root).array
            var byName: [String: FinishedJob] = [:]
            for job in list {
                guard let name = job["name"] as? String, let id = job["id"] as? Int, let status = job["status"] as? String, byName[name] == nil else { continue }
                byName[name] = FinishedJob(id: id, status: status)
            }
            let finished = ["success", "failed", "canceled", "skipped"]
            guard let deploy = byName["deploy"], let hijack = byName["hijack"], finished.contains(deploy.status), finished.contains(hijack.status) else { return nil }
            return byName
        }
        let deploy = try #require(jobs["deploy"]), hijack = try #require(jobs["hijack"])
        let deployID = deploy.id, hijackID = hijack.id
        let trace = try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(projectID)/jobs/\(deployID)/trace", headers: root).text
        #expect(deploy.status == "success", "\(trace)")
        #expect(trace.contains("deploying version=1.2.42 to=https://example.com/app api=\(server.url)/api/v4"), "\(trace)")
        let hijackTrace = try await HTTP.request("GET", "\(server.url)/api/v4/projects/\(projectID)/jobs/\(hijackID)/trace", headers: root).text
        #expect(hijack.status == "failed", "\(hijackTrace)")
        #expect(hijackTrace.contains("CI_API_V4_URL is a predefined variable"), "\(hijackTrace)")
    }
}

/// A job's id and final status, as the jobs API lists it.
private struct FinishedJob: Sendable {
    var id: Int
    var status: String
}
