import Foundation
import HTTPTypes
import HummingbirdTesting
import LatchkeyCore
import LatchkeyTestSupport
import Testing

@Suite("Job payload: image, services, cache, hooks and reports as gitlab-runner reads them")
struct JobPayloadContainersTests {
    static let ciFile = """
        default:
          cache:
            key: {files: [Gemfile.lock], prefix: gems}
            paths: [vendor/]
        test:
          image:
            name: ruby:3.3
            entrypoint: [""]
            pull_policy: if-not-present
            docker: {platform: linux/amd64, user: "1000"}
          services:
            - postgres:16
            - name: mysql:8
              alias: db
              command: [--default-authentication-plugin=mysql_native_password]
              variables: {MYSQL_ROOT_PASSWORD: root}
          hooks:
            pre_get_sources_script: [echo before fetch]
          artifacts:
            paths: [out/]
            exclude: [out/*.tmp]
            expire_in: 1 week
            reports:
              junit: rspec.xml
              dotenv: build.env
          after_script: [echo done]
          timeout: 10m
          script: [rake]
        """

    /// Creates a pipeline for `ciFile` (plus a Gemfile.lock) and returns the first job's payload as JSON, as a runner receives it.
    private func claim(_ server: TestServer, _ client: some TestClientProtocol, ciFile: String) async throws -> [String: Any] {
        let created = try await client.api(.post, "projects", token: server.rootToken, json: ["name": "app"])
        let projectID = Int64(try #require(created.object["id"] as? Int))
        try GitFixtures.commit([".gitlab-ci.yml": ciFile, "Gemfile.lock": "rake (13.0)\n"], to: server.environment.repositories.path(projectID: projectID))
        let pipeline = try await client.api(.post, "projects/\(projectID)/pipeline", token: server.rootToken, json: ["ref": "main"])
        try #require(pipeline.status == .created, "\(pipeline.text)")
        let registration = try await server.environment.registrationToken()
        let runner = try await client.api(.post, "runners", json: ["token": registration])
        let runnerToken = try #require(runner.object["token"] as? String)
        let claimed = try await client.api(.post, "jobs/request", json: ["token": runnerToken])
        try #require(claimed.status == .created, "\(claimed.status) \(claimed.text.prefix(300))")
        return claimed.object
    }

    @Test("the payload carries image, services, cache, hooks and the report artifacts with gitlab-runner's field names", arguments: TestBackend.all)
    func fields(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let job = try await claim(server, client, ciFile: Self.ciFile)
            let image = try #require(job["image"] as? [String: Any])
            #expect(image["name"] as? String == "ruby:3.3")
            #expect(image["entrypoint"] as? [String] == [""])
            #expect(image["pull_policy"] as? [String] == ["if-not-present"])
            #expect(image["ports"] as? [Any] != nil && (image["ports"] as? [Any])?.isEmpty == true)
            let docker = (image["executor_opts"] as? [String: Any])?["docker"] as? [String: Any]
            #expect(docker?["platform"] as? String == "linux/amd64")
            #expect(docker?["user"] as? String == "1000")

            let services = try #require(job["services"] as? [[String: Any]])
            #expect(services.map { $0["name"] as? String } == ["postgres:16", "mysql:8"])
            #expect(services.last?["alias"] as? String == "db")
            #expect(services.last?["command"] as? [String] == ["--default-authentication-plugin=mysql_native_password"])
            let variables = services.last?["variables"] as? [[String: Any]]
            #expect(variables?.first?["key"] as? String == "MYSQL_ROOT_PASSWORD")
            #expect(variables?.first?["value"] as? String == "root")

            let cache = try #require((job["cache"] as? [[String: Any]])?.first)
            let key = try #require(cache["key"] as? String)
            // prefix, SHA-1 of the file's last commit, then GitLab's protection suffix (main is unprotected here; root is an administrator, not a member).
            #expect(key.hasPrefix("gems-") && (key.hasSuffix("-non_protected") || key.hasSuffix("-protected")), "\(key)")
            #expect(key.count >= "gems-".count + 40, "\(key)")
            #expect(cache["paths"] as? [String] == ["vendor/"])
            #expect(cache["policy"] as? String == "pull-push")
            #expect(cache["when"] as? String == "on_success")
            #expect(cache["untracked"] as? Bool == false)
            #expect(cache["fallback_keys"] as? [String] == [])

            let hooks = try #require(job["hooks"] as? [[String: Any]])
            #expect(hooks.first?["name"] as? String == "pre_get_sources_script")
            #expect(hooks.first?["script"] as? [String] == ["echo before fetch"])

            let artifacts = try #require(job["artifacts"] as? [[String: Any]])
            #expect(artifacts.map { $0["artifact_type"] as? String } == ["archive", "junit", "dotenv"])
            #expect(artifacts.map { $0["artifact_format"] as? String } == ["zip", "gzip", "gzip"])
            #expect(artifacts.map { $0["name"] as? String } == ["artifacts", "junit.xml", ".env"])
            #expect(artifacts.first?["exclude"] as? [String] == ["out/*.tmp"])
            #expect(artifacts.dropFirst().allSatisfy { $0["when"] as? String == "always" && $0["expire_in"] as? String == "1 week" })
            #expect(artifacts[1]["paths"] as? [String] == ["rspec.xml"])

            let steps = try #require(job["steps"] as? [[String: Any]])
            #expect(steps.map { $0["timeout"] as? Int } == [600, 600], "after_script runs under the job's timeout, as GitLab's Step.from_after_script")
        }
    }

    @Test("a job without containers gets no image, empty services and cache, no hooks, and no archive for reports alone", arguments: [TestBackend.sqlite])
    func bare(backend: TestBackend) async throws {
        try await withTestServer(backend) { server, client in
            let job = try await claim(server, client, ciFile: "test:\n  artifacts: {reports: {junit: [a.xml, b.xml]}}\n  script: [rake]\n")
            #expect(job["image"] == nil || job["image"] is NSNull)
            #expect((job["services"] as? [Any])?.isEmpty == true)
            #expect((job["cache"] as? [Any])?.isEmpty == true)
            #expect(job["hooks"] == nil)
            let artifacts = try #require(job["artifacts"] as? [[String: Any]])
            #expect(artifacts.count == 1)
            #expect(artifacts.first?["artifact_type"] as? String == "junit")
            #expect(artifacts.first?["paths"] as? [String] == ["a.xml", "b.xml"])
        }
    }

    @Test("the payload decodes into Latchkey's runner types, so its own runner reads the same fields")
    func decodes() throws {
        let payload = JobPayload(
            id: 1, token: "t", jobInfo: .init(id: 1, name: "n", stage: "s", projectId: 1, projectName: "p"),
            gitInfo: .init(repoUrl: "u", ref: "main", sha: "s", beforeSha: "b", refType: "branch", refspecs: [], depth: 1), runnerInfo: .init(timeout: 1),
            variables: [], steps: [], artifacts: [], dependencies: [], image: .init(name: "alpine", pullPolicy: ["always"]),
            services: [.init(name: "redis", alias: "cache")], cache: [.init(key: "k-protected", untracked: false, paths: ["a"], policy: "pull", when: "always", fallbackKeys: [])],
            credentials: [.init(url: "registry.local:5000", username: "gitlab-ci-token", password: "t")], hooks: [.init(name: "pre_get_sources_script", script: ["x"])])
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let data = try encoder.encode(payload)
        #expect(try decoder.decode(JobPayload.self, from: data) == payload)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect((object["image"] as? [String: Any])?["executor_opts"] != nil)
        #expect((object["credentials"] as? [[String: Any]])?.first?["type"] as? String == "registry")
    }
}
